/**
 * Exactly-once calls with JetStream KV idempotency (issue 4 proof), once with the status record
 * as the dedupe entry (`{ statusRecord: true }`, ADR 0053) and once with a separate KV dedupe
 * store (`{ store }`): the normal path, 50 concurrent callers of one id, a lost ACK, retries
 * exhausted → FAILED + dead letter → replay, expiry, and the typed errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { waitFor } from '@aegis-ipc/testing';
import { newMessageId as newMessageIdForTest } from '@aegis-ipc/protocol';
import {
  AegisError,
  KvDedupeStore,
  MessageStatusStore,
  ReliableReceiver,
  listDeadLetters,
  replayMessage,
  type AegisClient,
  type Idempotency,
  type ServiceInstance,
} from '@aegis-ipc/sdk';
import { silent, startSystem, type System } from './helpers.js';

let system: System;
let caller: AegisClient;
const receivers: ReliableReceiver[] = [];
const registry = new Registry();
const runs = new Map<string, number>();
let failing = true;
const dropped = new Set<string>();
let dropNextFirstDelivery = false;

beforeAll(async () => {
  system = await startSystem();
  caller = await system.client();
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await system.cleanup();
});

async function readStatus(messageId: string) {
  return (await MessageStatusStore.bind(caller.nc)).get(messageId);
}

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((a, v) => a + v.value, 0);
}

describe.each(['statusRecord', 'store'] as const)('callReliable (%s)', (mode) => {
  const ledger = `ledger-${mode}`;
  let instances: ServiceInstance[];
  let idempotency: Idempotency;

  beforeAll(async () => {
    const serverClient = await system.client();
    idempotency = mode === 'store' ? { store: await KvDedupeStore.open(serverClient.nc, { bucket: system.dedupeBucket, ttlMs: 60 * 60 * 1000 }) } : { statusRecord: true };
    instances = [];
    for (const id of ['kv-1', 'kv-2']) {
      const instance = await serverClient.register(ledger, `${mode}-${id}`);
      instance
        .handle('add', async (params, ctx) => {
          runs.set(ctx.messageId ?? '', (runs.get(ctx.messageId ?? '') ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 20)); // widen the window for concurrent duplicates
          return { sum: Number(params.a) + Number(params.b), by: ctx.instanceId };
        })
        .handle('flaky', () => {
          if (failing) throw new AegisError('STORAGE_FAILURE', 'downstream unavailable');
          return { ok: true };
        })
        .handle('boom', () => {
          throw new Error('business rule violated');
        });
      instances.push(instance);
      receivers.push(
        await ReliableReceiver.start(instance, {
          idempotency,
          ackTimeoutMs: 1_000,
          maxRetries: 2,
          backoffInitialMs: 100,
          backoffMaxMs: 200,
          registry,
          logger: silent,
          // ACK lost on its way: neither the broker ack nor the EO-2 ACK leave on the first delivery.
          beforeAck: (messageId, delivery) => {
          if (dropNextFirstDelivery && delivery === 1) {
            dropNextFirstDelivery = false;
            dropped.add(messageId);
          }
          return dropped.has(messageId) && delivery === 1 ? 'drop' : undefined;
        },
        }),
      );
    }
  });

  it('returns the response and records ACKNOWLEDGED with the response', async () => {
    const messageId = newMessageIdForTest();
    const res = await caller.callReliable<{ sum: number }>(ledger, 'add', { a: 2, b: 3 }, { messageId, ackTimeoutMs: 2_000 });
    expect(res.sum).toBe(5);
    expect(runs.get(messageId)).toBe(1);
    const status = await readStatus(messageId);
    expect(status).toMatchObject({ state: 'ACKNOWLEDGED', retry_count: 0, service_name: ledger, method: 'add', response: { sum: 5 } });
    expect(status?.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a trace id that could not travel in a header is refused before anything is sent', async () => {
    for (const traceId of ['a\r\nIpc-Message-Id: x', 'with space', '']) {
      const messageId = newMessageIdForTest();
      await expect(caller.callReliable(ledger, 'add', { a: 1, b: 1 }, { messageId, traceId })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(runs.get(messageId)).toBeUndefined();
    }
  });

  it('50 concurrent callers with one message id: the handler runs once, all 50 get the same response', async () => {
    const messageId = newMessageIdForTest();
    const callers = await Promise.all(Array.from({ length: 5 }, () => system.client()));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => callers[i % callers.length]!.callReliable<{ sum: number; by: string }>(ledger, 'add', { a: 20, b: 22 }, { messageId, ackTimeoutMs: 2_000 })),
    );
    expect(results).toHaveLength(50);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(results[0]?.sum).toBe(42);
    expect(runs.get(messageId)).toBe(1);
  });

  it('a duplicate can be reported as MESSAGE_DUPLICATE with the original response', async () => {
    const messageId = newMessageIdForTest();
    await caller.callReliable(ledger, 'add', { a: 1, b: 1 }, { messageId });
    const err = await caller.callReliable(ledger, 'add', { a: 1, b: 1 }, { messageId, onDuplicate: 'throw' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AegisError);
    expect((err as AegisError).code).toBe('MESSAGE_DUPLICATE');
    expect((err as AegisError<'MESSAGE_DUPLICATE'>).details?.message_id).toBe(messageId);
    expect((err as AegisError<'MESSAGE_DUPLICATE'>).details?.original_response).toMatchObject({ sum: 2 });
    expect(runs.get(messageId)).toBe(1);
  });

  it('ACK lost: the broker redelivers, the duplicate is answered from the cache, processed once', async () => {
    const messageId = newMessageIdForTest();
    dropped.add(messageId);
    const dupBefore = await metric('ipc_messages_duplicates_total');
    const res = await caller.callReliable<{ sum: number }>(ledger, 'add', { a: 4, b: 4 }, { messageId, ackTimeoutMs: 1_500 });
    expect(res.sum).toBe(8);
    await waitFor(async () => (await metric('ipc_messages_duplicates_total')) > dupBefore, { timeoutMs: 20_000 });
    expect(runs.get(messageId)).toBe(1);
    expect(await readStatus(messageId)).toMatchObject({ state: 'ACKNOWLEDGED', retry_count: 1 });
  });

  it('an SDK-generated id (first delivery unclaimed in statusRecord mode), ACK lost: redelivered, answered from the record, processed once', async () => {
    const before = new Set(dropped);
    dropNextFirstDelivery = true;
    const res = await caller.callReliable<{ sum: number }>(ledger, 'add', { a: 6, b: 6 }, { ackTimeoutMs: 1_500 });
    expect(res.sum).toBe(12);
    const messageId = [...dropped].find((id) => !before.has(id))!;
    expect(messageId).toBeDefined();
    await waitFor(async () => (await readStatus(messageId))?.retry_count === 1, { timeoutMs: 20_000, what: 'the redelivery answered as a duplicate' });
    expect(runs.get(messageId)).toBe(1);
    expect(await readStatus(messageId)).toMatchObject({ state: 'ACKNOWLEDGED', response: { sum: 12 } });
  });

  it('a redelivery past the ttl of a message already processed (broker ack lost) leaves it ACKNOWLEDGED', async () => {
    const messageId = newMessageIdForTest();
    dropped.add(messageId);
    const dupBefore = await metric('ipc_messages_duplicates_total');
    const res = await caller.callReliable<{ sum: number }>(ledger, 'add', { a: 5, b: 5 }, { messageId, ttlMs: 300, ackTimeoutMs: 1_500 });
    expect(res.sum).toBe(10);
    await waitFor(async () => (await metric('ipc_messages_duplicates_total')) > dupBefore || (await readStatus(messageId))?.state !== 'ACKNOWLEDGED', { timeoutMs: 20_000 });
    expect(await readStatus(messageId)).toMatchObject({ state: 'ACKNOWLEDGED', response: { sum: 10 } });
    expect(runs.get(messageId)).toBe(1);
  });

  it('retries exhausted → FAILED with last_error, dead-lettered; replay re-runs it to ACKNOWLEDGED', async () => {
    failing = true;
    const messageId = newMessageIdForTest();
    const err = await caller.callReliable(ledger, 'flaky', {}, { messageId, ackTimeoutMs: 1_000, timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect((err as AegisError).code).toBe('STORAGE_FAILURE');
    const status = await readStatus(messageId);
    expect(status?.state).toBe('FAILED');
    expect(status?.retry_count).toBe(2);
    expect(status?.last_error).toContain('downstream unavailable');
    const letters = await listDeadLetters(caller.nc);
    expect(letters.map((l) => l.message_id)).toContain(messageId);
    failing = false;
    const replayed = await replayMessage(caller.nc, messageId);
    expect(replayed.state).toBe('PENDING');
    await waitFor(async () => (await readStatus(messageId))?.state === 'ACKNOWLEDGED', { timeoutMs: 20_000 });
    expect((await listDeadLetters(caller.nc)).map((l) => l.message_id)).not.toContain(messageId);
  });

  it('a handler error that is not retryable fails at once: FAILED, dead-lettered, error to the caller', async () => {
    const messageId = newMessageIdForTest();
    const err = await caller.callReliable(ledger, 'boom', {}, { messageId }).catch((e: unknown) => e);
    expect((err as AegisError).code).toBe('APPLICATION_ERROR');
    const status = await readStatus(messageId);
    expect(status?.state).toBe('FAILED');
    expect(status?.retry_count).toBe(0);
  });

  it('a message past its ttl is EXPIRED, never processed', async () => {
    // Deterministic on any machine: the request waits in the stream for a service whose
    // receiver starts only after the ttl has passed.
    const messageId = newMessageIdForTest();
    const pending = caller.callReliable(`${ledger}-late`, 'add', { a: 0, b: 0 }, { messageId, ttlMs: 20 }).catch((e: unknown) => e);
    await waitFor(async () => (await readStatus(messageId))?.state === 'PENDING', { what: 'stored as PENDING' });
    await new Promise((r) => setTimeout(r, 60));
    const serverClient = await system.client();
    const late = await serverClient.register(`${ledger}-late`, `${mode}-late-1`);
    let ran = false;
    late.handle('add', () => {
      ran = true;
      return { sum: 0 };
    });
    const receiver = await ReliableReceiver.start(late, { idempotency, ackTimeoutMs: 1_000, registry, logger: silent });
    try {
      const err = await pending;
      expect((err as AegisError).code).toBe('MESSAGE_EXPIRED');
      expect(ran).toBe(false);
      expect((await readStatus(messageId))?.state).toBe('EXPIRED');
    } finally {
      await receiver.close();
    }
  });

  // Sent, ACK-timeout and processing-time values, each on its side's registry: reliable-metrics.int.test.ts.
  it('metrics count ACKs by status, retries, duplicates and cache hits/misses', async () => {
    expect(await metric('ipc_messages_acknowledged_total', { status: 'success' })).toBeGreaterThan(0);
    expect(await metric('ipc_messages_acknowledged_total', { status: 'failure' })).toBeGreaterThan(0);
    expect(await metric('ipc_messages_retried_total', { side: 'receiver' })).toBeGreaterThan(0);
    expect(await metric('ipc_message_cache_hits_total')).toBeGreaterThan(0);
    expect(await metric('ipc_message_cache_misses_total')).toBeGreaterThan(0);
  });
});
