/**
 * Parks a request that reached `max_deliver` without any instance parking it — every delivery,
 * the spare included, went to instances that died (ADR 0051's gap). Driven by the
 * `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES` advisory, which the server sends only when the
 * last delivery was neither acked nor termed. Uses the same dead-letter `Nats-Msg-Id` as the
 * receiver (`dlq-<stream>-<seq>`), so a race with a late receiver parks once.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { AegisError, HEADERS, ackSubject, encode } from '@aegis-ipc/protocol';
import type { AckMessage } from './ack-message.js';
import { leaseLive, type MessageStatusStore } from './message-status.js';
import { RELIABLE_HEADERS } from './reliable-headers.js';
import { deadLetterHeaders } from './dead-letter.js';
import { RELIABLE_STREAM, deadLetterSubject, parseReliableSubject } from './reliable-topology.js';

/** Advisory subject for the request stream's consumers. */
export function maxDeliveriesAdvisorySubject(): string {
  return `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${RELIABLE_STREAM}.*`;
}

/** What {@link parkStalledRequest} parked: the ids its log line carries (SPEC OBS-3). */
export interface ParkedRequest {
  readonly messageId: string;
  /** The request's `Ipc-Trace-Id`; '' when it carried none. */
  readonly traceId: string;
  readonly serviceName: string;
  readonly method: string;
}

/**
 * What {@link parkStalledRequest} left alone because a delivery holds the id's live lease (status-
 * record idempotency): nothing parked, nothing deleted, no ACK. Ask again once `heldUntil` passed.
 */
export interface HeldRequest {
  readonly held: true;
  readonly messageId: string;
  /** The lease's end (epoch ms) as read; a running holder renews it, so it may move on. */
  readonly heldUntil: number;
}

/**
 * Parks the request at `seq` of the request stream; returns what it parked, `held` when a delivery
 * holds the id's live lease, or undefined when the message is already gone (acked, termed or parked
 * meanwhile) or its id already ended. Safe to call again after a failure: it re-reads the stream
 * and the status first, and the dead letter's `Nats-Msg-Id` makes a repeated publish one letter.
 * @throws AegisError `STORAGE_FAILURE` with `message_id` and `trace_id` when a step after reading the
 *   request failed (a refused publish, the dead-letter stream unavailable, a broken connection);
 *   the transport's error when reading the request itself failed
 */
export async function parkStalledRequest(nc: NatsConnection, statuses: MessageStatusStore, seq: number, deliveries: number): Promise<ParkedRequest | HeldRequest | undefined> {
  const jsm = await jetstreamManager(nc);
  let sm;
  try {
    sm = await jsm.streams.getMessage(RELIABLE_STREAM, { seq });
  } catch (e) {
    // The request stream gone: nothing left to park. Anything else (a broken connection, a
    // timeout) is a failure the caller tries again, not "already gone" (ADR 0051).
    if (e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw e;
  }
  if (sm === null) return undefined;
  const target = parseReliableSubject(sm.subject);
  const messageId = sm.header?.get(HEADERS.messageId) ?? '';
  const traceId = sm.header?.get(HEADERS.traceId) ?? '';
  if (target === undefined || messageId === '') return undefined;
  try {
    return await parkRead(nc, jsm, statuses, seq, deliveries, sm, target, messageId, traceId);
  } catch (e) {
    // The ids the caller's log line needs (SPEC OBS-3) are known only here, once the request was read.
    throw new AegisError('STORAGE_FAILURE', `could not park ${messageId} (stream seq ${seq}): ${e instanceof Error ? e.message : String(e)}`, {
      cause: e, details: { message_id: messageId, trace_id: traceId, service_name: target.serviceName, method: target.method, stream_seq: seq },
    });
  }
}

/** {@link parkStalledRequest} once the request at `seq` was read. */
async function parkRead(
  nc: NatsConnection, jsm: JetStreamManager, statuses: MessageStatusStore, seq: number, deliveries: number,
  sm: StoredMsg, target: { serviceName: string; method: string }, messageId: string, traceId: string,
): Promise<ParkedRequest | HeldRequest | undefined> {
  const previous = await statuses.get(messageId);
  if (previous !== undefined && previous.state !== 'PENDING') {
    // Already terminal: processed (or parked) by an instance whose broker ack/term was lost, the
    // spare delivery then eaten by a dead one. Parking it turned an ACKNOWLEDGED message FAILED
    // and sent its caller a failure ACK (found by the watcher's integration test, ADR 0051). The
    // recorded outcome stands; the request is only cleared from the stream.
    await jsm.streams.deleteMessage(RELIABLE_STREAM, seq, false).catch(() => undefined);
    return undefined;
  }
  if (leaseLive(previous, Date.now())) {
    // A delivery holds the id now (ADR 0027, round 3): a copy of the id whose deliveries ran out
    // while it waited — or this very message, whose holder stopped telling the broker it works and
    // may be dying. Parking said FAILED beside a running handler; deleting could drop the holder's
    // own message. Neither: the caller looks again when the lease is over — a finished holder has
    // made the record terminal (cleared above), a dead one has let the lease lapse (parked below).
    return { held: true, messageId, heldUntil: previous!.lease_until! };
  }
  const error = new AegisError('ACK_TIMEOUT', `retries exhausted: no instance acknowledged ${messageId} in ${deliveries} deliveries`, { retryable: false, details: { message_id: messageId, deliveries } });
  const h = deadLetterHeaders(sm.header);
  h.set(RELIABLE_HEADERS.lastError, `${error.code}: ${error.message}`);
  h.set(RELIABLE_HEADERS.deliveries, String(deliveries));
  h.set(RELIABLE_HEADERS.deadLetteredAt, new Date().toISOString());
  const parked = await jetstream(nc).publish(deadLetterSubject(target.serviceName, target.method), sm.data, { headers: h, msgID: `dlq-${RELIABLE_STREAM}-${seq}` });
  const now = new Date().toISOString();
  // Compare-and-set, not a blind put: an instance still running the last delivery may record its
  // outcome meanwhile, and that outcome wins over this park.
  const recorded = await statuses.updateUnlessTerminal(messageId, (current) => ({
    message_id: messageId, service_name: target.serviceName, method: target.method, state: 'FAILED', retry_count: Math.max(0, deliveries - 1),
    last_error: `${error.code}: ${error.message}`, error: error.toWire(), trace_id: traceId || (current?.trace_id ?? previous?.trace_id ?? ''),
    created_at: current?.created_at ?? previous?.created_at ?? now, updated_at: now, instance_id: null, dlq_seq: parked.seq, replays: current?.replays ?? previous?.replays ?? 0,
  }));
  // Ended meanwhile (another router parked it, or a late instance recorded its outcome): that
  // outcome stands. A late ACKNOWLEDGED can leave this dead letter behind; replay refuses it.
  if (!recorded) return undefined;
  await jsm.streams.deleteMessage(RELIABLE_STREAM, seq, false).catch(() => undefined);
  const ack: AckMessage = {
    message_id: messageId, service_name: target.serviceName, instance_id: '', status: 'failure', error_message: error.message,
    processing_time_ms: 0, trace_id: traceId, duplicate: false, error: error.toWire(),
  };
  const data = encode(ack);
  nc.publish(ackSubject(messageId), data);
  const ackTo = sm.header?.get(RELIABLE_HEADERS.ackTo);
  if (ackTo) nc.publish(ackTo, data);
  return { messageId, traceId, serviceName: target.serviceName, method: target.method };
}
