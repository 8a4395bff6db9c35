/**
 * The router's MAX_DELIVERIES watcher parks several messages of ONE service and method. There is
 * one dead-letter subject per service and method; until the watcher stopped copying the caller's
 * `Nats-Expected-Last-Subject-Sequence: 0` into the dead letter (deadLetterHeaders(), ADR 0051),
 * JetStream refused every park there after the first ("wrong last sequence"): the second and later
 * messages stayed PENDING in the request stream and their callers hung until their own timeout.
 *
 * Three calls of `work` whose every delivery went to a zombie (./stalled-request-arrangement.ts):
 * each ends FAILED with its last error, exactly one dead letter per id, its caller answered with
 * ACK_TIMEOUT within a bound far below its own timeout, and a replay — over the CLI and the admin
 * API — runs each once more, to ACKNOWLEDGED, with its dead letter gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { newMessageId } from '@aegis-ipc/protocol';
import { spawnTs, uniqueName, waitFor } from '@aegis-ipc/testing';
import type { AegisClient, MessageStatus } from '@aegis-ipc/sdk';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';
import { answerWithin, deadLetterIdsOf, deleteReliableState, stalledRequestArrangement, type StalledRequestArrangement } from './stalled-request-arrangement.js';

const CLI = fileURLToPath(new URL('../../../cli/src/main.ts', import.meta.url));
const MESSAGES = 3;
/** Far below the callers' own 50 s ack timeout: an answer within it can only come from the watcher's park. */
const ANSWER_BOUND_MS = 15_000;
const harness = routerHarness();
let router: Router;
let nc: NatsConnection;
let client: AegisClient;
let jsm: JetStreamManager;
let stalled: StalledRequestArrangement;

beforeAll(async () => {
  router = await harness.start();
  ({ nc, client } = await harness.connect());
  jsm = await jetstreamManager(nc);
  stalled = stalledRequestArrangement(router, nc, client, jsm);
});

afterAll(async () => {
  await stalled.close();
  await harness.cleanup();
  await deleteReliableState();
});

async function admin<T>(path: string, method = 'GET'): Promise<{ status: number; body: T }> {
  const res = await fetch(`${router.url}/api/v1/admin${path}`, { method });
  return { status: res.status, body: (await res.json()) as T };
}

describe('the watcher parks several stalled messages of one service and method', () => {
  it('each ends FAILED with one dead letter, its caller gets ACK_TIMEOUT, and a replay runs each once to ACKNOWLEDGED', async () => {
    const service = uniqueName('onemethod');
    const { receiver, runs, receiveAgain } = await stalled.serviceWithReceiver(service, 500);
    await stalled.receiverGone(service, receiver);
    const zombie = await stalled.startZombie(service);
    const ids = Array.from({ length: MESSAGES }, () => newMessageId());
    const calls = ids.map((messageId, n) => client.callReliable<{ done: number }>(service, 'work', { n }, { messageId, ackTimeoutMs: 50_000, maxRetries: 0, timeoutMs: 55_000 }));
    for (const call of calls) call.catch(() => undefined);

    // Every caller answered, not only the first one parked on the method's dead-letter subject.
    expect(await Promise.all(calls.map((call) => answerWithin(call, ANSWER_BOUND_MS)))).toEqual(ids.map(() => 'ACK_TIMEOUT'));
    expect([...zombie.deliveries].sort()).toEqual([1, 1, 1, 2, 2, 2]); // max_deliver 2 for each: the delivery and the spare
    expect(runs()).toBe(0);

    const parked: MessageStatus[] = [];
    for (const [n, messageId] of ids.entries()) {
      const failed = await stalled.status(messageId);
      expect(failed, `message ${n}`).toMatchObject({ message_id: messageId, state: 'FAILED', service_name: service, method: 'work', retry_count: 1 });
      expect(failed.last_error, `message ${n}`).toMatch(/^ACK_TIMEOUT: retries exhausted/);
      const letters = await stalled.deadLettersOf(messageId);
      expect(letters, `message ${n}`).toEqual([expect.objectContaining({ dlq_seq: failed.dlq_seq, service_name: service, method: 'work', deliveries: 2 })]);
      expect(letters[0]?.last_error).toMatch(/^ACK_TIMEOUT/);
      expect(await stalled.requestSeq(service, messageId), `message ${n} left the request stream`).toBeUndefined();
      parked.push(failed);
    }
    // Counted in the dead-letter stream itself: one letter per id on the one subject, nothing else.
    expect((await deadLetterIdsOf(jsm, service)).sort()).toEqual([...ids].sort());
    expect(new Set(parked.map((s) => s.dlq_seq)).size).toBe(MESSAGES);

    // Replay needs a live receiver, and no zombie left to eat the replayed deliveries.
    await zombie.stop();
    await receiveAgain();
    const [viaCli, ...viaApi] = ids;
    const cli = spawnTs(CLI, ['messages', 'replay', viaCli!, '--json'], { AEGIS_ADMIN_URL: router.url });
    expect(await cli.exited).toBe(0);
    expect(JSON.parse(cli.lines.join('\n'))).toMatchObject({ message_id: viaCli, replays: 1 });
    for (const messageId of viaApi) {
      const replay = await admin<MessageStatus>(`/messages/${messageId}/replay`, 'POST');
      expect(replay.status).toBe(200);
      expect(replay.body).toMatchObject({ message_id: messageId, replays: 1 });
    }

    for (const [n, messageId] of ids.entries()) {
      await waitFor(async () => (await stalled.status(messageId)).state === 'ACKNOWLEDGED', { timeoutMs: 10_000, what: `message ${n} replayed to ACKNOWLEDGED` });
      expect(await stalled.status(messageId)).toMatchObject({ state: 'ACKNOWLEDGED', response: { done: n }, replays: 1 });
      expect(await stalled.deadLettersOf(messageId)).toHaveLength(0);
      // Asking again answers from the status, without another run.
      expect(await client.callReliable(service, 'work', { n }, { messageId })).toEqual({ done: n });
    }
    // Once each: every id ended ACKNOWLEDGED with its own response, and the handler ran three times in all.
    expect(runs()).toBe(MESSAGES);
    expect(await deadLetterIdsOf(jsm, service)).toEqual([]);
  }, 90_000);
});
