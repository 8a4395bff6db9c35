/**
 * The router's MAX_DELIVERIES watcher (ADR 0051's gap): a reliable request whose every delivery,
 * the spare included, went to instances that never answered is parked by the router — FAILED with
 * ACK_TIMEOUT, one dead letter, gone from the request stream, the waiting caller answered with a
 * typed failure. Repeated advisories park once; an advisory for a message already gone changes
 * nothing, and one for a message already processed (only its broker acks lost) keeps its outcome;
 * malformed advisories are ignored and the router keeps serving.
 *
 * The first tests make the server itself emit the advisory (./stalled-request-arrangement.ts: a
 * receiver creates the consumer and goes away, a "zombie" takes every delivery and never acks).
 * The others publish the advisory JSON themselves on the advisory subject (the same subject and
 * fields as the server's), because they need a chosen sequence or a repeat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { NAMESPACE, ackSubject, decode, newMessageId, newTraceId } from '@aegis-ipc/protocol';
import { captureLogs, errorCodeOf, uniqueName, waitFor } from '@aegis-ipc/testing';
import { RELIABLE_STREAM, MessageStatusStore, consumerNameOf, type AckMessage, type AegisClient } from '@aegis-ipc/sdk';
import { pino } from 'pino';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';
import { deleteReliableState, stalledRequestArrangement, type StalledRequestArrangement } from './stalled-request-arrangement.js';

const harness = routerHarness();
/** The router's warn+ lines: the watcher's `message_dead_lettered` must name the request (SPEC OBS-3). */
const routerLogs = captureLogs();
let router: Router;
let nc: NatsConnection;
let client: AegisClient;
let jsm: JetStreamManager;
let stalled: StalledRequestArrangement;

beforeAll(async () => {
  router = await harness.start({ logger: pino({ level: 'warn' }, routerLogs.stream) });
  ({ nc, client } = await harness.connect());
  jsm = await jetstreamManager(nc);
  stalled = stalledRequestArrangement(router, nc, client, jsm);
});

afterAll(async () => {
  await stalled.close();
  await harness.cleanup();
  await deleteReliableState();
});

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
  const seq = await waitFor(() => stalled.requestSeq(service, messageId), { what: 'the request in the stream' });
  return { messageId, call, seq };
}

describe('a request no instance parked (the server emits MAX_DELIVERIES)', () => {
  it('ends FAILED, dead-lettered once, gone from the stream, and the waiting caller gets ACK_TIMEOUT', async () => {
    const service = uniqueName('stalled');
    const { receiver, runs } = await stalled.serviceWithReceiver(service, 500);
    await stalled.receiverGone(service, receiver);
    const { deliveries } = await stalled.startZombie(service);
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
    const final = await stalled.status(messageId);
    expect(final).toMatchObject({ message_id: messageId, state: 'FAILED', service_name: service, method: 'work', retry_count: 1 });
    expect(final.last_error).toMatch(/^ACK_TIMEOUT: retries exhausted/);
    const letters = await stalled.deadLettersOf(messageId);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ dlq_seq: final.dlq_seq, service_name: service, method: 'work', deliveries: 2 });
    expect(letters[0]?.last_error).toMatch(/^ACK_TIMEOUT/);
    expect(await stalled.requestSeq(service, messageId)).toBeUndefined();
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
    const { receiver, runs } = await stalled.serviceWithReceiver(service, 2_000, () => 'drop');
    const messageId = newMessageId();
    const acks = countAcks(messageId);
    const call = client.callReliable<{ done: number }>(service, 'work', { n: 7 }, { messageId, ackTimeoutMs: 50_000, maxRetries: 0, timeoutMs: 55_000 });
    call.catch(() => undefined);
    await waitFor(async () => (await stalled.status(messageId)).state === 'ACKNOWLEDGED', { what: 'the first delivery recorded' });
    await stalled.startZombie(service);
    await receiver.close();
    // The spare goes to the zombie or to a pull request the closed receiver left open; nobody acks
    // it, so only the watcher (on the server's advisory) can take the request out of the stream.
    await waitFor(async () => (await stalled.requestSeq(service, messageId)) === undefined, { timeoutMs: 20_000, what: 'the request to leave the stream' });
    await new Promise((r) => setTimeout(r, 300)); // a late failure ACK or status write would land here
    expect(runs()).toBe(1);
    expect(await stalled.status(messageId)).toMatchObject({ state: 'ACKNOWLEDGED', response: { done: 7 } });
    expect(await stalled.deadLettersOf(messageId)).toHaveLength(0);
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
      await waitFor(async () => (await stalled.requestSeq(service, messageId)) === undefined, { what: 'the request to leave the stream' });
      const parked = await stalled.status(messageId);
      expect(parked.state).toBe('FAILED');
      advise(service, maxDeliverAdvisory(service, seq)); // redelivered after the park: the message is gone
      await new Promise((r) => setTimeout(r, 500));
      expect(await stalled.deadLettersOf(messageId)).toHaveLength(1);
      expect(await stalled.status(messageId)).toMatchObject({ state: 'FAILED', dlq_seq: parked.dlq_seq });
      // The status write is a compare-and-set: only the router that won it clears and answers.
      expect(acks.map((a) => [a.status, a.error?.code])).toEqual([['failure', 'ACK_TIMEOUT']]);
    } finally {
      await second.close();
    }
  });

  it('an advisory for a sequence already acked and deleted changes nothing', async () => {
    const service = uniqueName('done');
    await stalled.serviceWithReceiver(service, 2_000);
    const messageId = newMessageId();
    expect(await client.callReliable(service, 'work', { n: 3 }, { messageId })).toEqual({ done: 3 });
    await waitFor(async () => (await jsm.streams.info(RELIABLE_STREAM, { subjects_filter: `${NAMESPACE}.reliable.${service}.>` })).state.messages === 0, { what: 'the broker ack' });
    const seq = (await jsm.streams.info(RELIABLE_STREAM)).state.last_seq;
    const acks = countAcks(messageId);
    const before = await stalled.status(messageId);
    advise(service, maxDeliverAdvisory(service, seq));
    // A stuck request parked after it proves the watcher got past the stale advisory.
    const sentinelService = uniqueName('sentinel');
    const sentinel = await stuckRequest(sentinelService);
    advise(sentinelService, maxDeliverAdvisory(sentinelService, sentinel.seq));
    expect(await errorCodeOf(sentinel.call)).toBe('ACK_TIMEOUT');
    expect(await stalled.status(messageId)).toEqual(before);
    expect(await stalled.deadLettersOf(messageId)).toHaveLength(0);
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
    expect(await stalled.requestSeq(service, messageId)).toBe(seq);
    expect(await stalled.deadLettersOf(messageId)).toHaveLength(0);
    expect(await stalled.status(messageId)).toMatchObject({ state: 'PENDING', instance_id: 'holder' });
    // The watcher looks again after the lease: nobody renewed it, so the id parks as before.
    expect(await errorCodeOf(call)).toBe('ACK_TIMEOUT');
    expect(await stalled.status(messageId)).toMatchObject({ state: 'FAILED' });
    expect(await stalled.deadLettersOf(messageId)).toHaveLength(1);
    expect(acks.map((a) => [a.status, a.error?.code])).toEqual([['failure', 'ACK_TIMEOUT']]);
  });

  it('a holder that finishes meanwhile keeps its outcome: the request is only cleared from the stream', async () => {
    const service = uniqueName('heldok');
    const { messageId, seq } = await stuckRequest(service);
    const acks = countAcks(messageId);
    const statuses = await holdId(service, messageId);
    advise(service, maxDeliverAdvisory(service, seq));
    await new Promise((r) => setTimeout(r, 500));
    expect(await stalled.requestSeq(service, messageId)).toBe(seq);
    const held = await statuses.recorded(messageId);
    await statuses.put({ ...held!, state: 'ACKNOWLEDGED', response: { done: 9 }, lease_until: null });
    await waitFor(async () => (await stalled.requestSeq(service, messageId)) === undefined, { timeoutMs: 5_000, what: 'the request to leave the stream' });
    await new Promise((r) => setTimeout(r, 300)); // a late failure ACK or status write would land here
    expect(await stalled.status(messageId)).toMatchObject({ state: 'ACKNOWLEDGED', response: { done: 9 } });
    expect(await stalled.deadLettersOf(messageId)).toHaveLength(0);
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
    expect((await stalled.status(messageId)).state).toBe('PENDING');
    expect((await fetch(`${router.url}/api/v1/admin/messages/${messageId}`)).status).toBe(200);
    expect(settled).toBe(false);
    expect(await stalled.requestSeq(service, messageId)).toBe(seq);
    expect(await stalled.deadLettersOf(messageId)).toHaveLength(0);
    // …and its watcher still parks on a well-formed advisory.
    advise(service, maxDeliverAdvisory(service, seq));
    expect(await errorCodeOf(call)).toBe('ACK_TIMEOUT');
    expect(await stalled.deadLettersOf(messageId)).toHaveLength(1);
  });
});
