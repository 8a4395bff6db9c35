/**
 * The raw baselines' caller, as cheap as plain nats.js allows: ONE wildcard reply subscription
 * with a correlation id per request instead of nats.js `request()` (which builds Error objects
 * for every request, even a successful one), and no per-request timer — answers that never come
 * are dropped by one coarse sweep per second and fail the call then. AegisIPC's `client.call()`
 * also uses one reply subscription (its `ReplyMux`), so both sides of the comparison call the
 * same way and the difference is the path behind the caller.
 */
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';

export interface RawCaller {
  request(subject: string, payload: Uint8Array, timeoutMs: number, headers?: MsgHdrs): Promise<Uint8Array>;
  /**
   * A JetStream publish the way a tuned raw loop does it: the request above (publishes of one
   * event-loop turn written together), resolved only when the stream's PubAck says it stored the
   * message (`duplicate` when `Nats-Msg-Id` matched).
   */
  publishJetStream(subject: string, payload: Uint8Array, timeoutMs: number, headers?: MsgHdrs): Promise<{ seq: number; duplicate: boolean }>;
  close(): void;
}

const td = new TextDecoder();

export function createRawCaller(nc: NatsConnection): RawCaller {
  const prefix = `_RAW.${globalThis.crypto.randomUUID().replaceAll('-', '')}.`;
  const pending = new Map<number, { resolve: (data: Uint8Array) => void; reject: (err: Error) => void; deadline: number }>();
  let nextId = 0;
  const sub = nc.subscribe(`${prefix}*`, {
    callback: (err, answer) => {
      if (err !== null) return;
      const id = Number(answer.subject.slice(prefix.length));
      const entry = pending.get(id);
      if (entry === undefined) return;
      pending.delete(id);
      entry.resolve(answer.data);
    },
  });
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, entry] of pending) {
      if (entry.deadline < now) {
        pending.delete(id);
        entry.reject(new Error('raw call timed out'));
      }
    }
  }, 1_000);
  sweep.unref();
  const request = (subject: string, payload: Uint8Array, timeoutMs: number, headers?: MsgHdrs) => {
    const id = nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      pending.set(id, { resolve, reject, deadline: Date.now() + timeoutMs });
      nc.publish(subject, payload, headers === undefined ? { reply: `${prefix}${id}` } : { reply: `${prefix}${id}`, headers });
    });
  };
  // JetStream publishes made in one event-loop turn are written back to back (one socket write),
  // as the SDK's JetStreamPublisher does: nats.js otherwise flushes once per promise continuation.
  let queued: Array<() => void> = [];
  const writeQueued = () => {
    const batch = queued;
    queued = [];
    for (const send of batch) send();
  };
  const requestBatched = (subject: string, payload: Uint8Array, timeoutMs: number, headers?: MsgHdrs) => {
    const id = nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      pending.set(id, { resolve, reject, deadline: Date.now() + timeoutMs });
      const send = () => nc.publish(subject, payload, headers === undefined ? { reply: `${prefix}${id}` } : { reply: `${prefix}${id}`, headers });
      if (queued.push(send) === 1) setImmediate(writeQueued);
    });
  };
  return {
    request,
    async publishJetStream(subject, payload, timeoutMs, headers) {
      const reply = await requestBatched(subject, payload, timeoutMs, headers);
      const ack = JSON.parse(td.decode(reply)) as { seq?: number; duplicate?: boolean; error?: { description?: string } };
      if (ack.error !== undefined || ack.seq === undefined) throw new Error(`JetStream refused the publish: ${ack.error?.description ?? 'no ack'}`);
      return { seq: ack.seq, duplicate: ack.duplicate === true };
    },
    close() {
      clearInterval(sweep);
      sub.unsubscribe();
    },
  };
}
