/**
 * The router's MAX_DELIVERIES watcher tries a failed park again (ADR 0051). The server sends ONE
 * advisory per message: until the watcher retried, a park that failed once — here the dead-letter
 * stream is missing, so the dead letter's publish finds no stream — only logged
 * `message_dead_letter_failed`, and the message stayed PENDING in the request stream while its
 * caller waited out its own timeout.
 *
 * A call whose every delivery went to a zombie (./stalled-request-arrangement.ts), the dead-letter
 * stream deleted before its advisory: the first park fails and is logged; the stream is restored;
 * a later try parks it — exactly once (one dead letter for the id, counted in the stream itself),
 * FAILED, its caller answered ACK_TIMEOUT far below its own timeout, nothing counted as abandoned.
 * Then, with the stream gone for good, every try fails and the watcher gives up loudly: an error
 * line with the message and trace ids, and `ipc_router_stalled_parks_abandoned_total`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { newMessageId, newTraceId } from '@aegis-ipc/protocol';
import { captureLogs, uniqueName, waitFor } from '@aegis-ipc/testing';
import { RELIABLE_DLQ_STREAM, type AegisClient } from '@aegis-ipc/sdk';
import { pino } from 'pino';
import type { Router } from '@aegis-ipc/router';
import { PARK_RETRY_DELAYS_MS } from '../../src/delivery/stalled-request-watcher.js';
import { routerHarness } from '../router-harness.js';
import { answerWithin, deadLetterIdsOf, deleteReliableState, stalledRequestArrangement, type StalledRequestArrangement } from './stalled-request-arrangement.js';

/** Far below the caller's own 50 s ack timeout: an answer within it can only come from the watcher's park. */
const ANSWER_BOUND_MS = 15_000;
const harness = routerHarness();
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

/** The watcher's lines about `messageId`, as `event` names in order. */
function eventsOf(messageId: string): unknown[] {
  return routerLogs.records().filter((r) => r['message_id'] === messageId).map((r) => r['event']);
}

async function abandonedCount(): Promise<number> {
  return (await router.metrics.stalledParksAbandoned.get()).values.reduce((sum, v) => sum + v.value, 0);
}

describe('the watcher tries a failed park again', () => {
  it('parks once a later try succeeds: one dead letter, FAILED, the caller answered, the failure logged before the park', async () => {
    const service = uniqueName('parkretry');
    const { receiver, runs } = await stalled.serviceWithReceiver(service, 500);
    await stalled.receiverGone(service, receiver);
    const zombie = await stalled.startZombie(service);
    const messageId = newMessageId();
    const traceId = newTraceId();
    const call = client.callReliable(service, 'work', { n: 1 }, { messageId, traceId, ackTimeoutMs: 50_000, maxRetries: 0, timeoutMs: 55_000 });
    call.catch(() => undefined);
    // Deleted once the zombie holds the first delivery: the caller's first call (re)creates the
    // reliable streams, and the advisory comes only after the spare delivery's ack wait (500 ms).
    await waitFor(() => zombie.deliveries.length > 0, { timeoutMs: 10_000, intervalMs: 10, what: 'the first delivery' });
    const dlq: StreamConfig = (await jsm.streams.info(RELIABLE_DLQ_STREAM)).config;
    await jsm.streams.delete(RELIABLE_DLQ_STREAM);

    // The first park fails: no dead-letter stream to take the letter. The request stays.
    const seq = await stalled.requestSeq(service, messageId);
    expect(seq, 'in the request stream').toBeDefined();
    const firstFailure = () => routerLogs.withEvent('message_dead_letter_failed').find((r) => r['stream_seq'] === seq);
    await waitFor(() => firstFailure() !== undefined, { timeoutMs: 10_000, what: 'the first park to fail' });
    expect(await stalled.requestSeq(service, messageId), 'still in the request stream').toBe(seq);
    expect((await stalled.status(messageId)).state).toBe('PENDING');

    await jsm.streams.add(dlq);
    // A later try parks it, and the caller is answered long before its own timeout. (Without the
    // retry this is where it failed: one failed park, then no answer within the bound.)
    expect(await answerWithin(call, ANSWER_BOUND_MS)).toBe('ACK_TIMEOUT');
    expect(firstFailure()).toMatchObject({ level: 40, message_id: messageId, trace_id: traceId, tries: 1, retry_in_ms: PARK_RETRY_DELAYS_MS[0] });
    expect(zombie.deliveries).toEqual([1, 2]);
    expect(runs()).toBe(0);

    const failed = await stalled.status(messageId);
    expect(failed).toMatchObject({ message_id: messageId, state: 'FAILED', service_name: service, method: 'work', retry_count: 1, trace_id: traceId });
    expect(failed.last_error).toMatch(/^ACK_TIMEOUT: retries exhausted/);
    expect(await stalled.deadLettersOf(messageId)).toEqual([expect.objectContaining({ dlq_seq: failed.dlq_seq, service_name: service, method: 'work', deliveries: 2 })]);
    expect(await deadLetterIdsOf(jsm, service)).toEqual([messageId]);
    expect(await stalled.requestSeq(service, messageId), 'left the request stream').toBeUndefined();

    const events = eventsOf(messageId);
    expect(events.at(-1)).toBe('message_dead_lettered');
    expect(events.slice(0, -1).every((e) => e === 'message_dead_letter_failed')).toBe(true);
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(routerLogs.withEvent('message_dead_lettered').find((r) => r['message_id'] === messageId)).toMatchObject({ trace_id: traceId, failed_tries: events.length - 1 });
    expect(await abandonedCount()).toBe(0);
    await zombie.stop();
  }, 60_000);

  it('gives up after the last try: an error line with the message and trace ids, counted; the request stays PENDING in the stream', async () => {
    const service = uniqueName('parkgiveup');
    const { receiver } = await stalled.serviceWithReceiver(service, 500);
    await stalled.receiverGone(service, receiver);
    const zombie = await stalled.startZombie(service);
    const messageId = newMessageId();
    const traceId = newTraceId();
    const call = client.callReliable(service, 'work', { n: 2 }, { messageId, traceId, ackTimeoutMs: 60_000, maxRetries: 0, timeoutMs: 65_000 });
    call.catch(() => undefined);
    await waitFor(() => zombie.deliveries.length > 0, { timeoutMs: 10_000, intervalMs: 10, what: 'the first delivery' });
    await jsm.streams.delete(RELIABLE_DLQ_STREAM);

    const allTries = PARK_RETRY_DELAYS_MS.reduce((sum, ms) => sum + ms, 0);
    await waitFor(() => routerLogs.withEvent('message_dead_letter_abandoned').some((r) => r['message_id'] === messageId), { timeoutMs: allTries + 15_000, what: 'the watcher to give up' });
    expect(routerLogs.withEvent('message_dead_letter_abandoned').filter((r) => r['message_id'] === messageId)).toEqual([
      expect.objectContaining({ level: 50, trace_id: traceId, tries: PARK_RETRY_DELAYS_MS.length + 1 }),
    ]);
    expect(routerLogs.withEvent('message_dead_letter_failed').filter((r) => r['message_id'] === messageId).map((r) => r['tries'])).toEqual(PARK_RETRY_DELAYS_MS.map((_, n) => n + 1));
    expect(await abandonedCount()).toBe(1);
    // Not lost: the request stays in the stream, PENDING (docs/guarantees.md).
    expect(await stalled.requestSeq(service, messageId)).toBeDefined();
    expect((await stalled.status(messageId)).state).toBe('PENDING');
    await zombie.stop();
  }, 90_000);
});
