/**
 * W3C trace context (`traceparent`) built from an AegisIPC trace id. Full OpenTelemetry spans
 * are a later issue; until then every hop carries a valid `traceparent` whose trace id is the
 * AegisIPC trace id, so an OTel-instrumented peer joins the same trace.
 */
import { randomHex } from './ids.js';

const HEX32 = /^[0-9a-f]{32}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A new random span id: 16 lowercase hex characters. */
export function newSpanId(): string {
  return randomHex(8);
}

/**
 * `00-{traceId}-{spanId}-01` when `traceId` is a W3C trace id; `undefined` otherwise (a
 * foreign trace id that is not 32 hex cannot be expressed as a traceparent).
 */
export function formatTraceparent(traceId: string, spanId: string = newSpanId()): string | undefined {
  return traceId.length === 32 && HEX32.test(traceId) ? `00-${traceId}-${spanId}-01` : undefined;
}

/** The trace id and parent span id of a `traceparent`, or `undefined` when malformed. */
export function parseTraceparent(value: string | undefined): { traceId: string; spanId: string; flags: string } | undefined {
  if (value === undefined) return undefined;
  const m = TRACEPARENT.exec(value);
  if (m === null || m[1] === '0'.repeat(32) || m[2] === '0'.repeat(16)) return undefined;
  return { traceId: m[1] as string, spanId: m[2] as string, flags: m[3] as string };
}
