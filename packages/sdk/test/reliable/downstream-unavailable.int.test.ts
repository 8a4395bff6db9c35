/**
 * EO-7 "downstream unavailable → fail fast without exhausting resources", as ADR 0050 defines it
 * (section "Downstream unavailable"): a reliable handler whose own dependency is down
 *
 * - fails its message as soon as the dependency answers with an error — a non-retryable one parks
 *   the message FAILED on its first delivery, a retryable one is retried `maxRetries` times after
 *   the backoff and then parked — and every caller gets that typed error within the retry horizon
 *   (no caller hangs, none waits for an ack wait);
 * - never runs more than `concurrency` handlers at once on an instance, however many requests
 *   arrive: the rest wait in the stream, not in memory; when it is over nothing is left pending
 *   or unacknowledged on the consumer.
 *
 * The dependencies are real: a service whose only instance left (the router answers the nested
 * call at once) and a service whose instance never answers (the nested call times out).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { uniqueName, waitFor } from '@aegis-ipc/testing';
import { AegisError, MessageStatusStore, RELIABLE_STREAM, ReliableReceiver, consumerNameOf, listDeadLetters, type AegisClient } from '@aegis-ipc/sdk';
import { silent, startSystem, type System } from './helpers.js';

const CONCURRENCY = 4;
const CALLERS = 24;
const NESTED_TIMEOUT_MS = 600;
let system: System;
let caller: AegisClient;
let server: AegisClient;
const receivers: ReliableReceiver[] = [];
let release: () => void = () => undefined;

beforeAll(async () => {
  system = await startSystem();
  caller = await system.client();
  server = await system.client();
});

afterAll(async () => {
  release();
  await Promise.all(receivers.map((r) => r.close()));
  await system.cleanup();
});

/** A reliable service whose handler calls `downstream`; counts runs and the most running at once. */
async function frontOf(downstream: string) {
  const service = uniqueName('front');
  const counts = { runs: 0, running: 0, maxRunning: 0 };
  const instance = await server.register(service, `${service}-1`);
  instance.handle('order', async () => {
    counts.runs++;
    counts.maxRunning = Math.max(counts.maxRunning, ++counts.running);
    try {
      return await server.call(downstream, 'reserve', {}, { timeoutMs: NESTED_TIMEOUT_MS });
    } finally {
      counts.running--;
    }
  });
  receivers.push(
    await ReliableReceiver.start(instance, {
      idempotency: { statusRecord: true }, concurrency: CONCURRENCY, ackTimeoutMs: 5_000, maxRetries: 1, backoffInitialMs: 100, backoffMaxMs: 200, logger: silent,
    }),
  );
  return { service, counts };
}

/** `CALLERS` concurrent reliable calls; each settles with its error; returns them and the elapsed time. */
async function callAll(service: string): Promise<{ errors: AegisError[]; elapsedMs: number; ids: string[] }> {
  const started = Date.now();
  const ids = Array.from({ length: CALLERS }, () => crypto.randomUUID());
  const settled = await Promise.allSettled(ids.map((messageId) => caller.callReliable(service, 'order', {}, { messageId, timeoutMs: 30_000 })));
  const elapsedMs = Date.now() - started;
  expect(settled.every((s) => s.status === 'rejected')).toBe(true);
  return { errors: settled.map((s) => (s as PromiseRejectedResult).reason as AegisError), elapsedMs, ids };
}

/** The service's consumer holds nothing: no message waiting, none delivered and unacknowledged. */
async function expectConsumerDrained(service: string): Promise<void> {
  const jsm = await jetstreamManager(caller.nc);
  await waitFor(async () => {
    const info = await jsm.consumers.info(RELIABLE_STREAM, consumerNameOf(service));
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }, { timeoutMs: 10_000, what: 'the consumer drained' });
}

/** Each message is FAILED with the error its caller got. */
async function expectAllFailed(ids: readonly string[], errors: readonly AegisError[]): Promise<void> {
  const store = await MessageStatusStore.bind(caller.nc);
  for (const [i, id] of ids.entries()) expect(await store.get(id)).toMatchObject({ state: 'FAILED', error: { code: errors[i]?.code } });
}

describe('downstream unavailable (EO-7)', () => {
  it('a downstream with no instance left: every message FAILED on its first delivery, callers get the typed error at once', async () => {
    const downstream = uniqueName('gone');
    const gone = await server.register(downstream, `${downstream}-1`);
    gone.handle('reserve', () => ({ ok: true }));
    await gone.close();
    const { service, counts } = await frontOf(downstream);

    const { errors, elapsedMs, ids } = await callAll(service);
    const codes = new Set(errors.map((e) => e.code));
    expect([...codes]).toEqual(['ROUTE_NO_INSTANCE']); // the router's answer to the nested call, passed on
    expect(errors.every((e) => e instanceof AegisError && !e.retryable)).toBe(true); // why none was retried
    expect(counts.runs).toBe(CALLERS); // one delivery each
    expect(counts.maxRunning).toBeLessThanOrEqual(CONCURRENCY);
    expect(elapsedMs).toBeLessThan(10_000);
    await expectAllFailed(ids, errors);
    // All 24 parked on the one dead-letter subject of service.method (before the fix only the first could be).
    const parked = new Set((await listDeadLetters(caller.nc, 1_000)).map((l) => l.message_id));
    expect(ids.filter((id) => !parked.has(id))).toEqual([]);
    await expectConsumerDrained(service);
    console.log(`downstream gone: ${CALLERS} callers got ROUTE_NO_INSTANCE in ${elapsedMs} ms; ${counts.runs} handler runs, at most ${counts.maxRunning} at once`);
  });

  it('a downstream that never answers: at most `concurrency` handlers wait on it, each message retried once then FAILED, callers answered within the retry horizon', async () => {
    const downstream = uniqueName('hung');
    const hung = await server.register(downstream, `${downstream}-1`);
    const never = new Promise<never>((_, reject) => (release = () => reject(new Error('released'))));
    never.catch(() => undefined);
    hung.handle('reserve', () => never);
    const { service, counts } = await frontOf(downstream);

    const { errors, elapsedMs, ids } = await callAll(service);
    const codes = new Set(errors.map((e) => e.code));
    // The first runs time out; then the router's breaker for the downstream opens and answers at
    // once (ROUTE_CIRCUIT_OPEN): both are retryable, so each message got its one retry.
    for (const code of codes) expect(['TIMEOUT', 'ROUTE_INSTANCE_TIMEOUT', 'ROUTE_ALL_FAILED', 'ROUTE_CIRCUIT_OPEN']).toContain(code);
    expect(errors.every((e) => e instanceof AegisError && e.retryable)).toBe(true);
    expect(counts.runs).toBe(CALLERS * 2);
    // Saturated, never above the bound: the other requests waited in the stream.
    expect(counts.maxRunning).toBe(CONCURRENCY);
    // Bounded even if every run waited its full nested timeout: 48 runs, CONCURRENCY at a time, plus backoff.
    const worstMs = (CALLERS * 2 * NESTED_TIMEOUT_MS) / CONCURRENCY;
    expect(elapsedMs).toBeLessThan(worstMs + 5_000);
    await expectAllFailed(ids, errors);
    await expectConsumerDrained(service);
    console.log(`downstream hung: ${CALLERS} callers got ${[...codes].join('/')} in ${elapsedMs} ms (every run timing out: ${worstMs} ms); ${counts.runs} handler runs, at most ${counts.maxRunning} at once`);
  });
});
