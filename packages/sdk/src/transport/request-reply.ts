/**
 * One protocol request-reply: encode, check the size against the server's `max_payload`
 * (an oversized publish makes the server drop the whole connection), send, decode, and rebuild
 * an error reply into its `AegisError`.
 */
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { AegisError, decode, encode, unwrapReply } from '@aegis-ipc/protocol';
import { fromNatsError } from './nats-error.js';

export interface RequestReplyOptions {
  readonly timeoutMs: number;
  readonly headers?: MsgHdrs;
}

/**
 * @throws AegisError `PAYLOAD_TOO_LARGE`, `TIMEOUT`, `CONNECTION_FAILED`, `CLOSED`, or the code of
 * the error reply.
 */
export async function requestReply<T>(nc: NatsConnection, subject: string, body: unknown, options: RequestReplyOptions): Promise<T> {
  const data = encode(body);
  assertFitsPayload(nc, data.length);
  let reply;
  try {
    reply = await nc.request(subject, data, { timeout: options.timeoutMs, headers: options.headers });
  } catch (err) {
    throw fromNatsError(err, `request on ${subject}`, options.timeoutMs);
  }
  return unwrapReply<T>(decode(reply.data));
}

/**
 * @throws AegisError `PAYLOAD_TOO_LARGE` when `size` exceeds the server's max_payload.
 */
export function assertFitsPayload(nc: NatsConnection, size: number): void {
  const limit = nc.info?.max_payload ?? 1024 * 1024;
  // Leave room for headers and protocol framing.
  if (size > limit - 4096) {
    throw new AegisError('PAYLOAD_TOO_LARGE', `payload of ${size} bytes exceeds the server's max_payload (${limit} bytes, minus header room)`, {
      details: { size, limit: limit - 4096 },
    });
  }
}
