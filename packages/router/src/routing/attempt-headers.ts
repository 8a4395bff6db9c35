/**
 * The header block the router sends with each attempt: `Ipc-Hops`, `Ipc-Attempt`,
 * `Ipc-Timeout-Ms`, `Ipc-Path`, the `traceparent` (propagated, or derived from the trace id) and
 * `Ipc-Trace-Id` when the router generated the trace id.
 *
 * For a plain call (no path yet, no caller `traceparent`, trace id from the body) everything but
 * the `traceparent` repeats from call to call for the same instance, hop count, attempt and
 * budget: those bytes are kept per instance record and only the `traceparent` line is written,
 * byte by byte. Encoding the whole block as a string each time cost more than the rest of
 * choosing the instance (ADR 0031 round 3). Any other call builds the block from pairs.
 */
import type { MsgHdrs } from '@nats-io/nats-core';
import { HEADERS, NatsHeaderBlock, formatTraceparent, randomHexInto, type InstanceRecord } from '@aegis-ipc/protocol';
import { extendPath } from './loop-guard.js';
import type { RouteInput } from './route-input.js';

interface Prefix {
  readonly hops: number;
  readonly attempt: number;
  readonly timeoutMs: number;
  /** `NATS/1.0\r\n` and every line but the traceparent. */
  readonly bytes: Uint8Array;
}

const te = new TextEncoder();
const TRACEPARENT_OPEN = te.encode(`${HEADERS.traceparent}: 00-`);
/** Flags, end of the line, end of the block. */
const TRACEPARENT_CLOSE = te.encode('-01\r\n\r\n');
/** `traceparent: 00-` + trace id + `-` + span id + the close. */
const TRACEPARENT_TAIL = TRACEPARENT_OPEN.length + 32 + 1 + 16 + TRACEPARENT_CLOSE.length;
const CHAR_DASH = 0x2d;

export class AttemptHeaders {
  /** Per instance record (records are replaced, not mutated, when the registry changes). */
  readonly #prefixes = new WeakMap<InstanceRecord, Prefix>();

  /** The header block for attempt `attempt` of `input` on `instance`. */
  build(input: RouteInput, instance: InstanceRecord, attempt: number, timeoutMs: number): MsgHdrs {
    const hops = input.hops + 1;
    if (input.path === '' && input.traceparent === undefined && !input.traceIdGenerated) {
      const fast = this.#plain(input.traceId, instance, hops, attempt, timeoutMs);
      if (fast !== undefined) return new NatsHeaderBlock(fast) as unknown as MsgHdrs;
    }
    const pairs = [HEADERS.hops, String(hops), HEADERS.attempt, String(attempt), HEADERS.timeoutMs, String(timeoutMs), HEADERS.path, extendPath(input.path, `${input.serviceName}:${instance.instance_id}`)];
    // Propagated as received (the router creates no span of its own yet); built when absent.
    const traceparent = input.traceparent ?? formatTraceparent(input.traceId);
    if (traceparent !== undefined) pairs.push(HEADERS.traceparent, traceparent);
    // The trace id travels in the body; a header only when the router made it up.
    if (input.traceIdGenerated) pairs.push(HEADERS.traceId, input.traceId);
    return new NatsHeaderBlock(pairs) as unknown as MsgHdrs;
  }

  /**
   * The block of a plain call, the same bytes `build`'s general path gives; `undefined` when the
   * trace id is not 32 lowercase hex (then there is no derived traceparent).
   */
  #plain(traceId: string, instance: InstanceRecord, hops: number, attempt: number, timeoutMs: number): Uint8Array | undefined {
    if (traceId.length !== 32) return undefined;
    let prefix = this.#prefixes.get(instance);
    if (prefix === undefined || prefix.hops !== hops || prefix.attempt !== attempt || prefix.timeoutMs !== timeoutMs) {
      const path = `${instance.service_name}:${instance.instance_id}`;
      const lines = `NATS/1.0\r\n${HEADERS.hops}: ${hops}\r\n${HEADERS.attempt}: ${attempt}\r\n${HEADERS.timeoutMs}: ${timeoutMs}\r\n${HEADERS.path}: ${path}\r\n`;
      this.#prefixes.set(instance, (prefix = { hops, attempt, timeoutMs, bytes: te.encode(lines) }));
    }
    // From Node's shared slab: no zero-filled backing store of its own per call.
    const out = Buffer.allocUnsafe(prefix.bytes.length + TRACEPARENT_TAIL);
    out.set(prefix.bytes, 0);
    let at = prefix.bytes.length;
    out.set(TRACEPARENT_OPEN, at);
    at += TRACEPARENT_OPEN.length;
    for (let i = 0; i < 32; i++) {
      const c = traceId.charCodeAt(i);
      if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return undefined;
      out[at++] = c;
    }
    out[at++] = CHAR_DASH;
    // The span id (8 random bytes) is written as hex straight into the block: no string to build
    // and copy back character by character (ADR 0031 round 4).
    at = randomHexInto(out, at, 8);
    out.set(TRACEPARENT_CLOSE, at);
    return out;
  }
}
