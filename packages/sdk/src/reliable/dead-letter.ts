/**
 * Parks a request that exhausted its deliveries (or failed for good) in the dead-letter stream,
 * and lists/reads dead letters for operators. The receiver parks (ADR 0051): it knows the last
 * error, and the consumer's spare delivery covers an instance that crashed before parking.
 */
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { HEADERS } from '@aegis-ipc/protocol';
import { RELIABLE_HEADERS } from './reliable-headers.js';
import { RELIABLE_DLQ_STREAM, deadLetterSubject, parseReliableSubject } from './reliable-topology.js';

/**
 * The headers a request keeps in the dead-letter stream: all but its `Nats-Msg-Id`, its
 * first-send mark and the publish expectations (`Nats-Expected-*`). The caller publishes with
 * `Nats-Expected-Last-Subject-Sequence: 0` (one copy per id, ADR 0053); carried over to the
 * dead-letter subject — one per service and method — it refused every park after the first
 * there, so a second failed message of a method was never parked and its callers got no answer.
 */
export function deadLetterHeaders(source: Iterable<[string, string[]]> | undefined): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of source ?? []) {
    if (k === HEADERS.natsMsgId || k === RELIABLE_HEADERS.firstSend || k.toLowerCase().startsWith('nats-expected-')) continue;
    for (const value of v) h.append(k, value);
  }
  return h;
}

/** Publishes `msg` to the dead-letter stream; returns its sequence there. */
export async function parkRequest(js: JetStreamClient, msg: JsMsg, serviceName: string, method: string, lastError: string): Promise<number> {
  const h = deadLetterHeaders(msg.headers);
  h.set(RELIABLE_HEADERS.lastError, lastError.slice(0, 1024).replace(/[\r\n]+/g, ' '));
  h.set(RELIABLE_HEADERS.deliveries, String(msg.info.deliveryCount));
  h.set(RELIABLE_HEADERS.deadLetteredAt, new Date().toISOString());
  // The msgID makes parking this delivery twice (crash before term) a no-op.
  const ack = await js.publish(deadLetterSubject(serviceName, method), msg.data, { headers: h, msgID: `dlq-${msg.info.stream}-${msg.seq}` });
  return ack.seq;
}

/** One dead letter as listed by the admin API. */
export interface ReliableDeadLetter {
  readonly dlq_seq: number;
  readonly message_id: string;
  readonly service_name: string;
  readonly method: string;
  readonly trace_id: string | null;
  readonly last_error: string | null;
  readonly deliveries: number;
  readonly dead_lettered_at: string | null;
}

/** A dead letter with its payload, for replay. */
export interface StoredDeadLetter extends ReliableDeadLetter {
  readonly data: Uint8Array;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** Lists up to `limit` dead letters, oldest first. */
export async function listDeadLetters(nc: NatsConnection, limit = 100): Promise<ReliableDeadLetter[]> {
  const jsm = await jetstreamManager(nc);
  let info;
  try {
    info = await jsm.streams.info(RELIABLE_DLQ_STREAM);
  } catch {
    return [];
  }
  const out: ReliableDeadLetter[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && out.length < limit; seq++) {
    const letter = await readDeadLetter(nc, seq);
    if (letter !== undefined) out.push(letter);
  }
  return out;
}

/** The dead letter at `seq`, or undefined (deleted or never there). */
export async function readDeadLetter(nc: NatsConnection, seq: number): Promise<StoredDeadLetter | undefined> {
  const jsm = await jetstreamManager(nc);
  let sm;
  try {
    sm = await jsm.streams.getMessage(RELIABLE_DLQ_STREAM, { seq });
  } catch {
    return undefined;
  }
  if (sm === null) return undefined;
  const target = parseReliableSubject(sm.subject);
  const get = (name: string) => sm.header?.get(name) || null;
  const hdrs: Array<readonly [string, string]> = [];
  for (const [k, v] of sm.header ?? []) for (const value of v) hdrs.push([k, value]);
  return {
    dlq_seq: sm.seq,
    message_id: get(HEADERS.messageId) ?? '',
    service_name: target?.serviceName ?? '',
    method: target?.method ?? '',
    trace_id: get(HEADERS.traceId),
    last_error: get(RELIABLE_HEADERS.lastError),
    deliveries: Number(get(RELIABLE_HEADERS.deliveries) ?? 0),
    dead_lettered_at: get(RELIABLE_HEADERS.deadLetteredAt),
    data: sm.data,
    headers: hdrs,
  };
}
