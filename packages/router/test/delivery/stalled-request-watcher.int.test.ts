/**
 * The router's MAX_DELIVERIES watcher (ADR 0051's gap): a reliable request whose every delivery,
 * the spare included, went to instances that never answered is parked by the router — FAILED with
 * ACK_TIMEOUT, one dead letter, gone from the request stream, the waiting caller answered with a
 * typed failure. Repeated advisories park once; an advisory for a message already gone changes
 * nothing, and one for a message already processed (only its broker acks lost) keeps its outcome;
 * malformed advisories are ignored and the router keeps serving.
 *
 * The first tests make the server itself emit the advisory: the service's consumer is created by
 * a real ReliableReceiver (small ack wait, `maxRetries: 0` → `max_deliver` 2), which then goes
 * away, and a "zombie" instance keeps pull requests open without ever acking — what a frozen
 * process, or a SIGKILLed one whose pull requests NATS 2.9 still serves, looks like to the broker.
 * The others publish the advisory JSON themselves on the advisory subject (the same subject and
 * fields as the server's), because they need a chosen sequence or a repeat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { NAMESPACE, SUBJECTS, ackSubject, decode, newMessageId, newTraceId } from '@aegis-ipc/protocol';
import { captureLogs, connectTestNats, deleteBuckets, deleteStreams, errorCodeOf, uniqueName, waitFor } from '@aegis-ipc/testing';
import {
  MESSAGE_STATUS_BUCKET,
  RELIABLE_DLQ_STREAM,
  RELIABLE_STREAM,
  MessageStatusStore,
  ReliableReceiver,
  consumerNameOf,
  requestReply,
  type AckMessage,
  type AegisClient,
  type MessageStatus,
  type ReliableDeadLetter,
} from '@aegis-ipc/sdk';
import { pino } from 'pino';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const silent = pino({ level: 'silent' });
const harness = routerHarness();
/** The router's warn+ lines: the watcher's `message_dead_lettered` must name the request (SPEC OBS-3). */
const routerLogs = captureLogs();
let router: Router;
let nc: NatsConnection;
let client: AegisClient;
let jsm: JetStreamManager;
const receivers: ReliableReceiver[] = [];
const zombies: ConsumerMessages[] = [];

beforeAll(async () => {
  router = await harness.start({ logger: pino({ level: 'warn' }, routerLogs.stream) });
  ({ nc, client } = await harness.connect());
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  for (const z of zombies) await z.close();
  await Promise.all(receivers.map((r) => r.close()));
  await harness.cleanup();
  const admin = await connectTestNats();
  await deleteStreams(admin, [RELIABLE_STREAM, RELIABLE_DLQ_STREAM]);
  await deleteBuckets(admin, [MESSAGE_STATUS_BUCKET]);
  await admin.close();
});

/**
 * Registers `service` with a receiver that creates its consumer (`max_deliver` = 2, ack wait
 * `ackTimeoutMs`) and records how many times the handler ran.
 */
async function serviceWithReceiver(service: string, ackTimeoutMs: number, beforeAck?: () => 'drop' | undefined): Promise<{ receiver: ReliableReceiver; runs: () => number }> {
  let runs = 0;
  const instance = await client.register(service, `${service}-1`);
  instance.handle('work', ({ n }) => {
    runs++;
    return { done: n };
  });
  const receiver = await ReliableReceiver.start(instance, {
    idempotency: { statusRecord: true }, ackTimeoutMs, maxRetries: 0, backoffInitialMs: 0, backoffMaxMs: 0, logger: silent, beforeAck,
  });
  receivers.push(receiver);
  return { receiver, runs: () => runs };
}

/** Closes the receiver and waits until the server holds none of its pull requests any more. */
async function receiverGone(service: string, receiver: ReliableReceiver): Promise<void> {
  await receiver.close();
  await waitFor(async () => (await jsm.consumers.info(RELIABLE_STREAM, consumerNameOf(service))).num_waiting === 0, { timeoutMs: 10_000, what: 'the receiver pull requests to expire' });
}

/** An instance that keeps pull requests open on the service's consumer and never acks; returns the delivery counts it saw. */
async function startZombie(service: string): Promise<number[]> {
  const consumer = await jetstream(nc).consumers.get(RELIABLE_STREAM, consumerNameOf(service));
  const messages = await consumer.consume({ max_messages: 8, expires: 1_000 });
  zombies.push(messages);
  const seen: number[] = [];
  void (async () => {
    for await (const m of messages) seen.push(m.info.deliveryCount);
  })();
  return seen;
}

/** The failure ACKs published on `ipc.ack.<id>`, counted from now on. */
function countAcks(messageId: string): AckMessage[] {
  const acks: AckMessage[] = [];
  nc.subscribe(ackSubject(messageId), {
    callback: (err, m) => {
      if (!err) acks.push(decode(m.data) as AckMessage);
    },
  });
  return acks;
}

/**
 * The status served on `ipc.message.status`, through the same `requestReply` any SDK caller
 * uses: the status comes wrapped in `message_status`, so a FAILED status (which has an `error`
 * field) is not mistaken for an error reply.
 */
async function status(messageId: string): Promise<MessageStatus> {
  const body = (await requestReply<{ message_status: MessageStatus }>(nc, SUBJECTS.messageStatus, { message_id: messageId }, { timeoutMs: 5_000 })).message_status;
  expect(body.state).toBeTypeOf('string');
  return body;
}

async function deadLettersOf(messageId: string): Promise<ReliableDeadLetter[]> {
  const res = await fetch(`${router.url}/api/v1/admin/messages/dlq`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { dead_letters: ReliableDeadLetter[] }).dead_letters.filter((d) => d.message_id === messageId);
}

/** The stream sequence of `messageId`'s request, or undefined once it left the request stream. */
async function requestSeq(service: string, messageId: string): Promise<number | undefined> {
  const sm = await jsm.streams.getMessage(RELIABLE_STREAM, { last_by_subj: `${NAMESPACE}.reliable.${service}.work.${messageId}` }).catch(() => null);
  return sm?.seq;
}

/** Publishes an advisory the way the server does (subject and fields of `io.nats.jetstream.advisory.v1.max_deliver`). */
function advise(service: string, payload: unknown): void {
  const data = typeof payload === 'string' ? payload : JSON.stringify(payload);
  nc.publish(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${RELIABLE_STREAM}.${consumerNameOf(service)}`, data);
}

function maxDeliverAdvisory(service: string, seq: number, deliveries = 2): Record<string, unknown> {
  return {
    type: 'io.nats.jetstream.advisory.v1.max_deliver', id: uniqueName('adv'), timestamp: new Date().toISOString(),
    stream: RELIABLE_STREAM, consumer: consumerNameOf(service), stream_seq: seq, deliveries,
  };
}

/** A request waiting in the stream for a service nobody consumes; returns its caller's pending call and its sequence. */
async function stuckRequest(service: string): Promise<{ messageId: string; call: Promise<unknown>; seq: number }> {
  const messageId = newMessageId();
  // The caller's own ack timeout is far beyond the test: an answer can only come from the ACK.
  const call = client.callReliable(service, 'work', { n: 1 }, { messageId, ackTimeoutMs: 50_000, maxRetries: 0, timeoutMs: 55_000 });
  call.catch(() => undefined);
  const seq = await waitFor(() => requestSeq(service, messageId), { what: 'the request in the stream' });
  return { messageId, call, seq };
}

describe('a request no instance parked (the server emits MAX_DELIVERIES)', () => {
  it('ends FAILED, dead-lettered once, gone from the stream, and the waiting caller gets ACK_TIMEOUT', async () => {
    const service = uniqueName('stalled');
    const { receiver, runs } = await serviceWithReceiver(service, 500);
    await receiverGone(service, receiver);
    const deliveries = await startZombie(service);
    const messageId = newMessageId();
    const traceId = newTraceId();
    const acks = countAcks(messageId);
    const started = Date.now();
    // Without the watcher this call would wait its whole 50 s ack timeout (the test times out first).
    const code = await errorCodeOf(client.callReliable(service, 'work', { n: 1 }, { messageId, traceId, ackTimeoutMs: 50_000, maxRetries: 0, timeoutMs: 55_000 }));
    expect(code).toBe('ACK_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(15_000);

    expect(deliveries).toEqual([1, 2]); // max_deliver 2: the delivery and the spare, both eaten by the zombie
    expect(runs()).toBe(0);
    const final = await status(messageId);
    expect(final).toMatchObject({ message_id: messageId, state: 'FAILED', service_name: service, method: 'work', retry_count: 1 });
    expect(final.last_error).toMatch(/^ACK_TIMEOUT: retries exhausted/);
    const letters = await deadLettersOf(messageId);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ dlq_seq: final.dlq_seq, service_name: service, method: 'work', deliveries: 2 });
    expect(letters[0]?.last_error).toMatch(/^ACK_TIMEOUT/);
    expect(await requestSeq(service, messageId)).toBeUndefined();
    await waitFor(() => acks.length >= 1, { what: 'the ACK on ipc.ack.<id>' });
    expect(acks.map((a) => [a.status, a.error?.code])).toEqual([['failure', 'ACK_TIMEOUT']]);
    expect(routerLogs.withEvent('message_dead_lettered').filter((r) => r['message_id'] === messageId)).toEqual([
      expect.objectContaining({ level: 40, trace_id: traceId, service_name: service, method: 'work', deliveries: 2 }),
    ]);
  }, 30_000);

  it('a message processed whose broker acks were all lost stays ACKNOWLEDGED: the watcher only clears it from the stream', async () => {
    const service = uniqueName('acked');
    // The first delivery records ACKNOWLEDGED and its broker ack is lost (as if the instance died
    // between the two); the spare then goes to an instance that never acks.
    const { receiver, runs } = await serviceWithReceiver(service, 2_000, () => 'drop');
    const messageId = newMessageId();
    const acks = countAcks(messageId);
    const call = client.callReliable<{ done: number }>(service, 'work', { n: 7 }, { messageId, ackTimeoutMs: 50_000, maxRetries: 0, timeoutMs: 55_000 });
    call.catch(() => undefined);
    await waitFor(async () => (await status(messageId)).state === 'ACKNOWLEDGED', { what: 'the first delivery recorded' });
    await startZombie(service);
    await receiver.close();
    // The spare goes to the zombie or to a pull request the closed receiver left open; nobody acks
    // it, so only the watcher (on the server's advisory) can take the request out of the stream.
    await waitFor(async () => (await requestSeq(service, messageId)) === undefined, { timeoutMs: 20_000, what: 'the request to leave the stream' });
    await new Promise((r) => setTimeout(r, 300)); // a late failure ACK or status write would land here
    expect(runs()).toBe(1);
    expect(await status(messageId)).toMatchObject({ state: 'ACKNOWLEDGED', response: { done: 7 } });
    expect(await deadLettersOf(messageId)).toHaveLength(0);
    expect(acks).toHaveLength(0);
    // The caller was never told otherwise; asking again answers from the status.
    expect(await client.callReliable(service, 'work', { n: 7 }, { messageId })).toEqual({ done: 7 });
  }, 40_000);
});

describe('repeated and stale advisories', () => {
  it('two advisories for one sequence at two routers, and a third one later, park it once', async () => {
    const second = await harness.start();
    try {
      const service = uniqueName('twice');
      const { messageId, call, seq } = await stuckRequest(service);
      const acks = countAcks(messageId);
      advise(service, maxDeliverAdvisory(service, seq));
      advise(service, maxDeliverAdvisory(service, seq));
      expect(await errorCodeOf(call)).toBe('ACK_TIMEOUT');
      await waitFor(async () => (await requestSeq(service, messageId)) === undefined, { what: 'the request to leave the stream' });
      const parked = await status(messageId);
      expect(parked.state).toBe('FAILED');
      advise(service, maxDeliverAdvisory(service, seq)); // redelivered after the park: the message is gone
      await new Promise((r) => setTimeout(r, 500));
      expect(await deadLettersOf(messageId)).toHaveLength(1);
      expect(await status(messageId)).toMatchObject({ state: 'FAILED', dlq_seq: parked.dlq_seq });
      // The status write is a compare-and-set: only the router that won it clears and answers.
      expect(acks.map((a) => [a.status, a.error?.code])).toEqual([['failure', 'ACK_TIMEOUT']]);
    } finally {
      await second.close();
    }
  });

  it('an advisory for a sequence already acked and deleted changes nothing', async () => {
    const service = uniqueName('done');
    await serviceWithReceiver(service, 2_000);
    const messageId = newMessageId();
    expect(await client.callReliable(service, 'work', { n: 3 }, { messageId })).toEqual({ done: 3 });
    await waitFor(async () => (await jsm.streams.info(RELIABLE_STREAM, { subjects_filter: `${NAMESPACE}.reliable.${service}.>` })).state.messages === 0, { what: 'the broker ack' });
    const seq = (await jsm.streams.info(RELIABLE_STREAM)).state.last_seq;
    const acks = countAcks(messageId);
    const before = await status(messageId);
    advise(service, maxDeliverAdvisory(service, seq));
    // A stuck request parked after it proves the watcher got past the stale advisory.
    const sentinelService = uniqueName('sentinel');
    const sentinel = await stuckRequest(sentinelService);
    advise(sentinelService, maxDeliverAdvisory(sentinelService, sentinel.seq));
    expect(await errorCodeOf(sentinel.call)).toBe('ACK_TIMEOUT');
    expect(await status(messageId)).toEqual(before);
    expect(await deadLettersOf(messageId)).toHaveLength(0);
    expect(acks).toHaveLength(0);
  });
});

describe('a request whose id a delivery holds (ADR 0027 round 3)', () => {
  const LEASE_MS = 1_500;
  /** What a running holder's claim leaves (status-record idempotency): PENDING, its lease ahead. */
  async function holdId(service: string, messageId: string): Promise<MessageStatusStore> {
    const statuses = await MessageStatusStore.bind(nc);
    const now = new Date().toISOString();
    await statuses.put({
      message_id: messageId, service_name: service, method: 'work', state: 'PENDING', retry_count: 0, last_error: null, trace_id: '',
      created_at: now, updated_at: now, instance_id: 'holder', lease_until: Date.now() + LEASE_MS,
    });
    return statuses;
  }

  it('is not parked while the lease is live, and parked FAILED once it lapsed (the holder gone)', async () => {
    const service = uniqueName('held');
    const { messageId, call, seq } = await stuckRequest(service);
    let settled = false;
    call.then(() => (settled = true), () => (settled = true));
    const acks = countAcks(messageId);
    await holdId(service, messageId);
    advise(service, maxDeliverAdvisory(service, seq));
    await new Promise((r) => setTimeout(r, 700));
    expect(settled).toBe(false);
    expect(acks).toHaveLength(0);
    expect(await requestSeq(service, messageId)).toBe(seq);
    expect(await deadLettersOf(messageId)).toHaveLength(0);
    expect(await status(messageId)).toMatchObject({ state: 'PENDING', instance_id: 'holder' });
    // The watcher looks again after the lease: nobody renewed it, so the id parks as before.
    expect(await errorCodeOf(call)).toBe('ACK_TIMEOUT');
    expect(await status(messageId)).toMatchObject({ state: 'FAILED' });
    expect(await deadLettersOf(messageId)).toHaveLength(1);
    expect(acks.map((a) => [a.status, a.error?.code])).toEqual([['failure', 'ACK_TIMEOUT']]);
  });

  it('a holder that finishes meanwhile keeps its outcome: the request is only cleared from the stream', async () => {
    const service = uniqueName('heldok');
    const { messageId, seq } = await stuckRequest(service);
    const acks = countAcks(messageId);
    const statuses = await holdId(service, messageId);
    advise(service, maxDeliverAdvisory(service, seq));
    await new Promise((r) => setTimeout(r, 500));
    expect(await requestSeq(service, messageId)).toBe(seq);
    const held = await statuses.recorded(messageId);
    await statuses.put({ ...held!, state: 'ACKNOWLEDGED', response: { done: 9 }, lease_until: null });
    await waitFor(async () => (await requestSeq(service, messageId)) === undefined, { timeoutMs: 5_000, what: 'the request to leave the stream' });
    await new Promise((r) => setTimeout(r, 300)); // a late failure ACK or status write would land here
    expect(await status(messageId)).toMatchObject({ state: 'ACKNOWLEDGED', response: { done: 9 } });
    expect(await deadLettersOf(messageId)).toHaveLength(0);
    expect(acks).toHaveLength(0);
  });
});

describe('malformed advisories', () => {
  it('are ignored, and the router keeps serving and parking', async () => {
    const service = uniqueName('malformed');
    const { messageId, call, seq } = await stuckRequest(service);
    let settled = false;
    call.then(() => (settled = true), () => (settled = true));
    const bad: unknown[] = [
      'not json', '', 'null', '42', '"text"', '[]', {}, { stream_seq: null }, { stream_seq: -seq }, { stream_seq: 0 }, { stream_seq: seq + 0.5 },
      { stream_seq: 'seq' }, { stream_seq: String(seq) }, { stream_seq: true }, { deliveries: 2 },
    ];
    for (const payload of bad) advise(service, payload);
    await nc.flush();
    // The router still answers on NATS and over HTTP…
    expect((await status(messageId)).state).toBe('PENDING');
    expect((await fetch(`${router.url}/api/v1/admin/messages/${messageId}`)).status).toBe(200);
    expect(settled).toBe(false);
    expect(await requestSeq(service, messageId)).toBe(seq);
    expect(await deadLettersOf(messageId)).toHaveLength(0);
    // …and its watcher still parks on a well-formed advisory.
    advise(service, maxDeliverAdvisory(service, seq));
    expect(await errorCodeOf(call)).toBe('ACK_TIMEOUT');
    expect(await deadLettersOf(messageId)).toHaveLength(1);
  });
});
