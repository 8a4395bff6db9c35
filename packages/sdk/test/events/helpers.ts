/** Shared set-up for the event bus tests: unique names per test and their cleanup. */
import { connectTestNats, connectTestRedis, deleteStreams, deleteKeysWithPrefix, uniqueName, type TestRedis } from '@aegis-ipc/testing';
import type { NatsConnection } from '@nats-io/nats-core';
import { Registry } from 'prom-client';
import { createEventBus, type EventBus, type EventBusOptions, type TransportName } from '@aegis-ipc/sdk';

/** Short timers so crash-recovery tests finish in seconds. */
export const FAST = { ackWaitMs: 1_000, claimIdleMs: 1_000, blockMs: 200, publishTimeoutMs: 2_000 } as const;

export interface Names {
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly redisKeyPrefix: string;
}

export function uniqueNames(): Names {
  const id = uniqueName('evt');
  return { stream: id.toUpperCase(), subjectPrefix: `${id}.evt`, redisKeyPrefix: `${id}` };
}

/** Environment for a child subscriber (fixtures/subscriber.ts) with the same names. */
export function childEnv(transport: TransportName, names: Names, extra: Record<string, string> = {}): Record<string, string> {
  return {
    EVT_TRANSPORT: transport,
    EVT_STREAM: names.stream,
    EVT_PREFIX: names.subjectPrefix,
    EVT_REDIS_PREFIX: names.redisKeyPrefix,
    ...extra,
  };
}

export class Harness {
  private readonly buses: EventBus[] = [];
  private constructor(
    readonly nc: NatsConnection,
    readonly redis: TestRedis,
    readonly names: Names,
  ) {}

  static async open(): Promise<Harness> {
    return new Harness(await connectTestNats('aegis-events-test'), await connectTestRedis(), uniqueNames());
  }

  async bus(overrides: Partial<EventBusOptions> = {}): Promise<EventBus> {
    const bus = await createEventBus({
      nats: this.nc,
      redis: this.redis,
      registry: new Registry(),
      ...this.names,
      ...FAST,
      ...overrides,
    });
    this.buses.push(bus);
    return bus;
  }

  async cleanup(): Promise<void> {
    for (const bus of this.buses) await bus.close();
    const s = this.names.stream;
    await deleteStreams(this.nc, [s, `${s}_DLQ`, `KV_${s}_DEDUPE`]);
    await deleteKeysWithPrefix(this.redis, `${this.names.redisKeyPrefix}:`);
    await this.nc.close();
    await this.redis.close();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ids seen more than once in `ids`. */
export function duplicatesOf(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const id of ids) (seen.has(id) ? dup : seen).add(id);
  return [...dup];
}
