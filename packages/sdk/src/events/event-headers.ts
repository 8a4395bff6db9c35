/**
 * Headers an event carries on both transports (NATS message headers; a JSON field on Redis).
 * Reserved names start with `Ipc-` or `Nats-`; user headers cannot override them.
 */
import { AegisError, HEADERS } from '@aegis-ipc/protocol';
import type { Qos } from './types.js';

export const EVENT_HEADERS = {
  messageId: HEADERS.messageId,
  natsMsgId: HEADERS.natsMsgId,
  qos: 'Ipc-Qos',
  key: 'Ipc-Event-Key',
  /** Written by a dead letter of a position-named event: its QoS 2 dedupe id, kept by a replay (ADR 0025). */
  dedupeId: 'Ipc-Dedupe-Id',
  /**
   * `1` on a QoS 2 publish whose id the SDK made for it (no caller id): no other copy of that id
   * can be stored until the stream's duplicate window has passed, so its first delivery may run
   * before claiming the id (ADR 0026). Never copied into a dead letter.
   */
  madeId: 'Ipc-Made-Id',
  /**
   * Written by a dead letter of an event carrying {@link EVENT_HEADERS.madeId}: when the stream
   * stored the original (epoch ms). A replay waits until the original's unclaimed runs are over.
   */
  firstStoredAt: 'Ipc-First-Stored-At',
  dlqTopic: 'Ipc-Dlq-Topic',
  dlqGroup: 'Ipc-Dlq-Group',
  dlqError: 'Ipc-Dlq-Error',
  dlqDeliveries: 'Ipc-Dlq-Deliveries',
  dlqAt: 'Ipc-Dlq-At',
} as const;

const RESERVED = /^(ipc-|nats-)/i;
const HEADER_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_HEADER_VALUE = 1024;

/**
 * Checks user headers before they reach the broker.
 * @throws AegisError `INVALID_NAME` for a reserved or malformed name, or a value with a newline.
 */
export function assertUserHeaders(headers: Readonly<Record<string, string>> | undefined): void {
  if (headers === undefined) return;
  for (const [name, value] of Object.entries(headers)) {
    let rule: string | undefined;
    if (!HEADER_NAME.test(name)) rule = 'header names may contain only letters, digits, "_" and "-" (1…64)';
    else if (RESERVED.test(name)) rule = 'header names starting with Ipc- or Nats- are reserved';
    else if (typeof value !== 'string' || value.length > MAX_HEADER_VALUE || /[\r\n]/.test(value)) {
      rule = `header values must be single-line strings of at most ${MAX_HEADER_VALUE} characters`;
    }
    if (rule !== undefined) {
      throw new AegisError('INVALID_NAME', `header ${name}: ${rule}`, { details: { field: 'header', value: name.slice(0, 100), rule } });
    }
  }
}

/** W3C trace context headers (ADR 0004): carried like user headers, read by the consumer span. */
export const TRACE_HEADERS = { traceparent: 'traceparent', tracestate: 'tracestate' } as const;

/** The parsed reserved part of an event's headers. */
export interface EventEnvelope {
  readonly messageId: string;
  /** True when the headers named the message (false: `messageId` is the fallback given). */
  readonly hasMessageId: boolean;
  /** The QoS 2 dedupe id a replayed dead letter carries, when it differs from the message id. */
  readonly dedupeId: string | undefined;
  /** The publisher made the id for this publish (`Ipc-Made-Id`, ADR 0026). */
  readonly madeId: boolean;
  /** The `Nats-Msg-Id` the stream de-duplicated this copy by, when it had one. */
  readonly natsMsgId: string | undefined;
  /** A replay's `Ipc-First-Stored-At` (epoch ms), 0 when absent or malformed. */
  readonly firstStoredAt: number;
  readonly qos: Qos;
  readonly key: string | undefined;
  readonly user: Record<string, string>;
  /** The publisher's trace context (`traceparent`/`tracestate`), when it sent one. */
  readonly trace: Record<string, string> | undefined;
}

/**
 * Splits a header map into the envelope fields and the user headers. Values may be lists (NATS
 * headers can repeat a name): the first one counts. Trace context headers are kept apart.
 */
export function readEnvelope(headers: Iterable<[string, string | readonly string[]]>, fallbackId: string): EventEnvelope {
  const env = newEnvelope(fallbackId);
  for (const [name, raw] of headers) addHeader(env, name, typeof raw === 'string' ? raw : (raw[0] ?? ''));
  return env;
}

/** {@link readEnvelope} over a parsed JSON object (Redis `h`); non-string values are ignored. */
export function readEnvelopeRecord(headers: Readonly<Record<string, unknown>>, fallbackId: string): EventEnvelope {
  const env = newEnvelope(fallbackId);
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') addHeader(env, name, value);
  }
  return env;
}

type MutableEnvelope = { -readonly [K in keyof EventEnvelope]: EventEnvelope[K] };

function newEnvelope(fallbackId: string): MutableEnvelope {
  return { messageId: fallbackId, hasMessageId: false, dedupeId: undefined, madeId: false, natsMsgId: undefined, firstStoredAt: 0, qos: 1, key: undefined, user: {}, trace: undefined };
}

function addHeader(env: MutableEnvelope, name: string, value: string): void {
  if (name === EVENT_HEADERS.messageId) {
    env.messageId = value;
    env.hasMessageId = true;
  }
  else if (name === EVENT_HEADERS.qos) env.qos = value === '2' ? 2 : value === '0' ? 0 : 1;
  else if (name === EVENT_HEADERS.key) env.key = value;
  else if (name === EVENT_HEADERS.dedupeId) env.dedupeId = value;
  else if (name === EVENT_HEADERS.madeId) env.madeId = value === '1';
  else if (name === EVENT_HEADERS.natsMsgId) env.natsMsgId = value;
  else if (name === EVENT_HEADERS.firstStoredAt) env.firstStoredAt = Number.isSafeInteger(Number(value)) ? Number(value) : 0;
  else if (name === TRACE_HEADERS.traceparent || name === TRACE_HEADERS.tracestate) (env.trace ??= {})[name] = value;
  else if (!RESERVED.test(name)) env.user[name] = value;
}

/** True when a publish has any header to send (without building anything). */
export function hasHeaders(headers: Readonly<Record<string, string>>): boolean {
  for (const _ in headers) return true;
  return false;
}

/**
 * The reserved headers of a publish, before user headers are added: only what the receiver
 * cannot tell otherwise. QoS 1 is the default a receiver assumes, and a QoS 1 event without a
 * caller's id takes its broker position as id (ADR 0025), so a plain QoS 1 publish has none.
 */
export function envelopeHeaders(messageId: string | undefined, qos: Qos, key: string | undefined, madeId = false): Record<string, string> {
  const out: Record<string, string> = {};
  if (messageId !== undefined) out[EVENT_HEADERS.messageId] = messageId;
  if (qos !== 1) out[EVENT_HEADERS.qos] = String(qos);
  if (madeId && qos === 2) out[EVENT_HEADERS.madeId] = '1';
  if (key !== undefined) out[EVENT_HEADERS.key] = key.replace(/[\r\n]/g, ' ').slice(0, MAX_HEADER_VALUE);
  return out;
}
