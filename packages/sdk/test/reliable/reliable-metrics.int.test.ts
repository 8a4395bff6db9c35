/**
 * OBS-1 values of the exactly-once metrics, each on the registry its side was given: the caller's
 * (`connect({ registry })`) counts sends and ACK timeouts, the receiver's (`ReliableReceiver`
 * `registry`) observes processing time — and nothing leaks into prom-client's global registry.
 * Before `ClientOptions.registry` the caller's counters could only land in the global registry,
 * so an application exposing its own registry (docs/metrics.md) never showed them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry, register as globalRegistry } from 'prom-client';
import { TEST_NATS_URL, uniqueName } from '@aegis-ipc/testing';
import { ReliableReceiver, connect, type AegisClient } from '@aegis-ipc/sdk';
import { silent, startSystem, type System } from './helpers.js';

const HANDLER_MS = 20;
const callerRegistry = new Registry();
const receiverRegistry = new Registry();
const served = uniqueName('metered');
const unserved = uniqueName('unserved'); // no receiver ever reads its consumer: no ACK can come
let system: System;
let caller: AegisClient;
let receiver: ReliableReceiver;

beforeAll(async () => {
  system = await startSystem();
  caller = await connect({ servers: TEST_NATS_URL, logger: silent, registry: callerRegistry });
  const server = await system.client();
  const instance = await server.register(served, `${served}-1`);
  instance
    .handle('work', async () => {
      await new Promise((r) => setTimeout(r, HANDLER_MS));
      return { ok: true };
    })
    .handle('refuse', () => {
      throw new Error('refused');
    });
  receiver = await ReliableReceiver.start(instance, { idempotency: { statusRecord: true }, ackTimeoutMs: 2_000, registry: receiverRegistry, logger: silent });
});

afterAll(async () => {
  await receiver?.close();
  await caller?.close();
  await system?.cleanup();
});

const HISTOGRAM_SAMPLE = /_(count|sum)$/;

/** Sum of `name`'s samples on `registry` whose labels include `labels` (`…_count`/`…_sum` of a histogram). */
async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name.replace(HISTOGRAM_SAMPLE, ''))?.get();
  return (m?.values ?? [])
    .filter((v) => ((v as { metricName?: string }).metricName ?? name) === name && Object.entries(labels).every(([k, val]) => v.labels[k] === val))
    .reduce((a, v) => a + v.value, 0);
}

describe('exactly-once metrics on the registries passed in', () => {
  it('ipc_messages_sent_total counts every durable send on the caller\'s registry, none on the global one', async () => {
    for (let i = 0; i < 3; i++) await caller.callReliable(served, 'work', {}, { ackTimeoutMs: 2_000 });
    await expect(caller.callReliable(served, 'refuse', {}, { ackTimeoutMs: 2_000 })).rejects.toMatchObject({ code: 'APPLICATION_ERROR' });
    expect(await metric(callerRegistry, 'ipc_messages_sent_total', { service_name: served })).toBe(4);
    expect(await metric(globalRegistry, 'ipc_messages_sent_total', { service_name: served })).toBe(0);
    // The caller's registry holds no receiver-side series of this service.
    expect(await metric(callerRegistry, 'ipc_message_processing_duration_seconds_count', { service_name: served })).toBe(0);
  });

  it('ipc_message_processing_duration_seconds observes one sample per ACK on the receiver\'s registry', async () => {
    expect(await metric(receiverRegistry, 'ipc_message_processing_duration_seconds_count', { service_name: served })).toBe(4);
    // Three handlers slept HANDLER_MS each: the sum holds at least their time, and not seconds more.
    const sum = await metric(receiverRegistry, 'ipc_message_processing_duration_seconds_sum', { service_name: served });
    expect(sum).toBeGreaterThanOrEqual((3 * (HANDLER_MS - 2)) / 1000);
    expect(sum).toBeLessThan(4);
    expect(await metric(receiverRegistry, 'ipc_messages_acknowledged_total', { service_name: served, status: 'success' })).toBe(3);
    expect(await metric(receiverRegistry, 'ipc_messages_acknowledged_total', { service_name: served, status: 'failure' })).toBe(1);
    expect(await metric(globalRegistry, 'ipc_message_processing_duration_seconds_count', { service_name: served })).toBe(0);
  });

  it('ipc_acknowledgment_timeout_total counts a caller that gave up on an instance that never acks', async () => {
    const started = Date.now();
    await expect(caller.callReliable(unserved, 'work', {}, { ackTimeoutMs: 300, timeoutMs: 900 })).rejects.toMatchObject({ code: 'ACK_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await metric(callerRegistry, 'ipc_acknowledgment_timeout_total', { service_name: unserved })).toBe(1);
    expect(await metric(callerRegistry, 'ipc_messages_sent_total', { service_name: unserved })).toBe(1);
    // Every ack-timeout interval without an ACK the caller re-sends the id once (900 ms / 300 ms).
    expect(await metric(callerRegistry, 'ipc_messages_retried_total', { service_name: unserved, side: 'caller' })).toBeGreaterThanOrEqual(1);
    expect(await metric(callerRegistry, 'ipc_acknowledgment_timeout_total', { service_name: served })).toBe(0);
    expect(await metric(globalRegistry, 'ipc_acknowledgment_timeout_total', { service_name: unserved })).toBe(0);
  });
});
