/**
 * The acknowledgement a receiver publishes on `ipc.ack.{message_id}` once the handler finished
 * (EO-2). Besides the EO-2 fields it carries the response (so the caller needs no second round
 * trip), the wire error of a failure, and whether it answered a duplicate from the cache.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { ackSubject, encode, type WireError } from '@aegis-ipc/protocol';
import { assertFitsPayload } from '../transport/request-reply.js';

export interface AckMessage {
  readonly message_id: string;
  readonly service_name: string;
  readonly instance_id: string;
  readonly status: 'success' | 'failure';
  readonly error_message: string | null;
  readonly processing_time_ms: number;
  readonly trace_id: string;
  readonly response?: unknown;
  readonly error?: WireError;
  /** True when the response came from the dedupe cache or inbox (no processing happened). */
  readonly duplicate: boolean;
}

/**
 * Publishes `ack` on `ipc.ack.{message_id}` (EO-2) and, when the caller named one, to its
 * `Ipc-Ack-To` inbox — the same bytes, encoded once; core NATS, not awaited. A response too large
 * for the server's max_payload is left out and flagged (`response_too_large`): the caller then
 * reads it from the status record.
 */
export function publishAck(nc: NatsConnection, ack: AckMessage, ackTo: string): void {
  let data = encode(ack);
  try {
    assertFitsPayload(nc, data.length);
  } catch {
    data = encode({ ...ack, response: undefined, response_too_large: true });
  }
  nc.publish(ackSubject(ack.message_id), data);
  if (ackTo) nc.publish(ackTo, data);
}
