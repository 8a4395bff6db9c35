/**
 * The arrangement shared by the tests of a handler slower than the ack timeout
 * (`long-handler.int.test.ts`) and of a copy of its id waiting behind it
 * (`waiting-copy.int.test.ts`): one system, a caller, Redis, a metrics registry, and — per
 * idempotency mode — a service whose `slow` method sleeps and counts its runs per message id, on
 * two instances, each with a `ReliableReceiver`. Call at module level: it registers its own
 * `beforeAll`/`afterAll`.
 */
import { afterAll, beforeAll } from 'vitest';
import { Registry } from 'prom-client';
import { connectTestRedis, deleteKeysWithPrefix, uniqueName, type TestRedis } from '@aegis-ipc/testing';
import { KvDedupeStore, RedisDedupeStore, ReliableReceiver, type AegisClient, type DedupeStore, type Idempotency } from '@aegis-ipc/sdk';
import { silent, startSystem, type System } from './helpers.js';

/** The three ways a receiver can hold a lease: the status record, or a `{ store }` on KV or Redis. */
export const LEASE_MODES = ['statusRecord', 'kv store', 'redis store'] as const;
export type LeaseMode = (typeof LEASE_MODES)[number];

export interface SlowServiceOptions {
  /** How long each run of `slow` takes (ms). */
  readonly handlerMs: number;
  /** The receivers' ack timeout (ms): the lease. */
  readonly ackTimeoutMs: number;
  /** The receivers' retries before a message is parked. */
  readonly maxRetries: number;
}

export interface SlowServiceFixture {
  readonly system: System;
  readonly caller: AegisClient;
  readonly redis: TestRedis;
  readonly registry: Registry;
  /** Runs of `slow` per message id, across every service of the file. */
  readonly runs: Map<string, number>;
  /** The sum of a metric's values for one service. */
  metric(name: string, serviceName: string): Promise<number>;
  /**
   * Serves `slow` (answers `{ run, by, x }`: the run's number for its message id, the instance,
   * the params' `x`) on two instances of `service`, with receivers leasing in `mode`. Returns the
   * dedupe store of a `{ store }` mode, so a test can write to it behind the receivers' back.
   */
  serveSlow(service: string, mode: LeaseMode, options: SlowServiceOptions): Promise<DedupeStore | undefined>;
}

export function slowServiceFixture(redisPrefixName: string): SlowServiceFixture {
  const redisPrefix = `${uniqueName(redisPrefixName)}:`;
  const receivers: ReliableReceiver[] = [];
  const registry = new Registry();
  const runs = new Map<string, number>();
  let system: System | undefined;
  let caller: AegisClient | undefined;
  let redis: TestRedis | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('slowServiceFixture: used before its beforeAll ran');
    return value;
  };

  beforeAll(async () => {
    system = await startSystem();
    caller = await system.client();
    redis = await connectTestRedis();
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await system?.cleanup();
    if (redis !== undefined) {
      await deleteKeysWithPrefix(redis, redisPrefix);
      await redis.close();
    }
  });

  return {
    get system() {
      return ready(system);
    },
    get caller() {
      return ready(caller);
    },
    get redis() {
      return ready(redis);
    },
    registry,
    runs,
    async metric(name, serviceName) {
      const m = await registry.getSingleMetric(name)?.get();
      return (m?.values ?? []).filter((v) => v.labels.service_name === serviceName).reduce((a, v) => a + v.value, 0);
    },
    async serveSlow(service, mode, options) {
      const server = await ready(system).client();
      const store =
        mode === 'statusRecord' ? undefined
        : mode === 'kv store' ? await KvDedupeStore.open(server.nc, { bucket: ready(system).dedupeBucket, ttlMs: 60 * 60 * 1000 })
        : new RedisDedupeStore(ready(redis), { keyPrefix: redisPrefix });
      const idempotency: Idempotency = store === undefined ? { statusRecord: true } : { store };
      // Two instances: a redelivery or a copy may land on either.
      for (const id of ['a', 'b']) {
        const instance = await server.register(service, `${service}-${id}`);
        instance.handle('slow', async (params, ctx) => {
          const n = (runs.get(ctx.messageId ?? '') ?? 0) + 1;
          runs.set(ctx.messageId ?? '', n);
          await new Promise((r) => setTimeout(r, options.handlerMs));
          return { run: n, by: ctx.instanceId, x: params.x };
        });
        receivers.push(
          await ReliableReceiver.start(instance, {
            idempotency, ackTimeoutMs: options.ackTimeoutMs, maxRetries: options.maxRetries, backoffInitialMs: 100, backoffMaxMs: 200, registry, logger: silent,
          }),
        );
      }
      return store;
    },
  };
}
