/**
 * The three call paths the routing benchmark compares, each as a `BenchCall` that fails when the
 * answer is wrong (a fast wrong answer must not count as throughput):
 * - raw 1 hop: a request straight to the raw responder;
 * - raw 2 hops: a request to the raw forwarder;
 * - AegisIPC: `client.call()` through the router to the echo instance's `mirror` method, which
 *   returns the params as they came, as the raw responder returns the bytes (ADR 0040).
 * Callers of all three use one shared reply subscription with correlation ids (the raw ones
 * {@link createRawCaller}, AegisIPC its `ReplyMux`), so the caller side is built alike; what
 * differs is the path behind it.
 */
import { encode } from '@aegis-ipc/protocol';
import type { AegisClient } from '@aegis-ipc/sdk';
import type { BenchCall } from './closed-loop.js';
import type { RawCaller } from './raw-caller.js';

/** Per-call timeout of every path (ms): far above any healthy latency, bounds a stuck run. */
export const CALL_TIMEOUT_MS = 5_000;

export const PATHS = ['raw_1hop', 'raw_2hop', 'aegis'] as const;
export type BenchPath = (typeof PATHS)[number];

/** Echo params whose MessagePack encoding is exactly `bytes` long (for bytes ≥ 32). */
export function paramsOfSize(bytes: number, seq = 0): { seq: number; data: string } {
  const probe = (len: number) => encode({ seq, data: 'x'.repeat(len) }).length;
  let len = Math.max(0, bytes - probe(0));
  // msgpack string headers grow at 32 and 256 characters: nudge until the size is exact.
  while (len > 0 && probe(len) > bytes) len--;
  return { seq, data: 'x'.repeat(len) };
}

export interface CallTargets {
  readonly raw: RawCaller;
  readonly client: AegisClient;
  readonly rawServiceSubject: string;
  readonly rawRouteSubject: string;
  readonly serviceName: string;
}

export function benchCall(path: BenchPath, targets: CallTargets, payloadBytes: number): BenchCall {
  if (path === 'aegis') {
    const { data } = paramsOfSize(payloadBytes);
    return async (seq) => {
      const reply = await targets.client.call<{ seq?: unknown }>(targets.serviceName, 'mirror', { seq, data }, { timeoutMs: CALL_TIMEOUT_MS });
      if (reply.seq !== seq) throw new WrongAnswer(`asked seq ${seq}, got ${String(reply.seq)}`);
    };
  }
  // Raw paths carry opaque bytes; the responder echoes them, so checking the length catches
  // a truncated or foreign answer without decoding (decoding is not part of the raw floor).
  const payload = encode(paramsOfSize(payloadBytes));
  const subject = path === 'raw_1hop' ? targets.rawServiceSubject : targets.rawRouteSubject;
  return async () => {
    const reply = await targets.raw.request(subject, payload, CALL_TIMEOUT_MS);
    if (reply.length !== payload.length) throw new WrongAnswer(`sent ${payload.length} bytes, got ${reply.length}`);
  };
}

/** An answer arrived but was not the answer to this call. */
export class WrongAnswer extends Error {
  override readonly name = 'WRONG_ANSWER';
  readonly code = 'WRONG_ANSWER';
}
