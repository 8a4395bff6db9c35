/**
 * Operator replay of a FAILED message (EO-5, QOS-3): its dead letter is published again to the
 * request stream and the status goes back to PENDING. The new publish carries a fresh
 * `Nats-Msg-Id` (`<id>-replay-<n>`): the original id may still sit in the stream's duplicate
 * window, where JetStream would silently drop it. The message id the receivers dedupe by
 * (`Ipc-Message-Id`) is unchanged — a FAILED message never completed, so it is processed again.
 */
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { AegisError, HEADERS } from '@aegis-ipc/protocol';
import { readDeadLetter } from './dead-letter.js';
import { MessageStatusStore, type MessageStatus } from './message-status.js';
import { RELIABLE_HEADERS } from './reliable-headers.js';
import { RELIABLE_DLQ_STREAM, requestSubject } from './reliable-topology.js';

const DLQ_ONLY = new Set<string>([RELIABLE_HEADERS.lastError, RELIABLE_HEADERS.deliveries, RELIABLE_HEADERS.deadLetteredAt, RELIABLE_HEADERS.replays, RELIABLE_HEADERS.firstSend, HEADERS.natsMsgId]);

/**
 * Replays the dead letter of `messageId`; returns its new (PENDING) status.
 * @throws AegisError `MESSAGE_NOT_FOUND` (no status or no dead letter), `VALIDATION_FAILED` when
 * the message is not FAILED, `STORAGE_FAILURE`.
 */
export async function replayMessage(nc: NatsConnection, messageId: string, store?: MessageStatusStore): Promise<MessageStatus> {
  const statuses = store ?? (await MessageStatusStore.bind(nc));
  const status = await statuses.get(messageId);
  if (status === undefined) throw new AegisError('MESSAGE_NOT_FOUND', `no status for message ${messageId}`, { details: { message_id: messageId } });
  if (status.state !== 'FAILED') {
    throw new AegisError('VALIDATION_FAILED', `message ${messageId} is ${status.state}; only FAILED messages can be replayed`, {
      details: { fields: [{ path: '/message_id', message: `state is ${status.state}` }] },
    });
  }
  const letter = status.dlq_seq == null ? undefined : await readDeadLetter(nc, status.dlq_seq);
  if (letter === undefined) throw new AegisError('MESSAGE_NOT_FOUND', `the dead letter of ${messageId} is gone (expired or already replayed)`, { details: { message_id: messageId } });
  const replays = (status.replays ?? 0) + 1;
  const h = natsHeaders();
  for (const [k, v] of letter.headers) if (!DLQ_ONLY.has(k)) h.append(k, v);
  h.set(RELIABLE_HEADERS.replays, String(replays));
  // One copy per id in the request stream (ADR 0053), as the caller publishes: refused while
  // another copy of the id waits there. Dead letters no longer carry this expectation.
  h.set('Nats-Expected-Last-Subject-Sequence', '0');
  const next: MessageStatus = { ...status, state: 'PENDING', retry_count: 0, dlq_seq: null, error: null, replays, updated_at: new Date().toISOString() };
  try {
    // Status first: if the replayed message is processed at once, its ACKNOWLEDGED must win.
    await statuses.put(next);
    await jetstream(nc).publish(requestSubject(letter.service_name, letter.method, messageId), letter.data, { headers: h, msgID: `${messageId}-replay-${replays}` });
    await (await jetstreamManager(nc)).streams.deleteMessage(RELIABLE_DLQ_STREAM, letter.dlq_seq, false);
  } catch (err) {
    throw err instanceof AegisError ? err : new AegisError('STORAGE_FAILURE', `replay of ${messageId} failed: ${(err as Error).message}`, { cause: err });
  }
  return next;
}
