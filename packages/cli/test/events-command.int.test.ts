/** `aegis events stats|dlq|replay` against the real brokers, on names unique to this file. */
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { createEventBus, TRANSPORTS, type EventBus } from '@aegis-ipc/sdk';
import { connectTestNats, connectTestRedis, deleteKeysWithPrefix, deleteStreams, uniqueName, waitFor, type TestRedis } from '@aegis-ipc/testing';
import type { NatsConnection } from '@nats-io/nats-core';
import { register } from '../src/commands/events.js';

const id = uniqueName('clievt');
const env = { AEGIS_EVENTS_STREAM: id.toUpperCase(), AEGIS_EVENTS_SUBJECT_PREFIX: `${id}.evt`, AEGIS_EVENTS_REDIS_PREFIX: id };
let nc: NatsConnection;
let redis: TestRedis;
let bus: EventBus;

beforeAll(async () => {
  nc = await connectTestNats();
  redis = await connectTestRedis();
  bus = await createEventBus({ nats: nc, redis, registry: new Registry(), stream: env.AEGIS_EVENTS_STREAM, subjectPrefix: env.AEGIS_EVENTS_SUBJECT_PREFIX, redisKeyPrefix: id });
});
afterAll(async () => {
  await bus.close();
  await deleteStreams(nc, [env.AEGIS_EVENTS_STREAM, `${env.AEGIS_EVENTS_STREAM}_DLQ`]);
  await deleteKeysWithPrefix(redis, `${id}:`);
  await nc.close();
  await redis.close();
});

/**
 * Runs the command in-process (commander + the real brokers): a spawned `aegis` pays a tsx
 * start-up that takes tens of seconds on the shared 2-core machine.
 */
async function aegis(...args: string[]): Promise<{ stdout: string; error: unknown }> {
  const out: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const program = new Command('aegis').exitOverride();
  register(program);
  let error: unknown;
  try {
    await program.parseAsync(['node', 'aegis', ...args]);
  } catch (err) {
    error = err;
  } finally {
    write.mockRestore();
    for (const key of Object.keys(env)) if (saved[key] === undefined) delete process.env[key];
  }
  return { stdout: out.join(''), error };
}

describe.each(TRANSPORTS)('aegis events on %s', (transport) => {
  it('lists stats and dead letters, and replays one', async () => {
    let attempts = 0;
    await bus.subscribe('cli.poison', () => {
      attempts++;
      throw new Error('always fails');
    }, { qos: 1, group: 'ops', maxDeliver: 1, transport });
    await bus.publish('cli.poison', { n: 1 }, { qos: 1, transport, messageId: `poison-${transport}` });
    await waitFor(async () => (await bus.deadLetters({ transport })).length === 1, { what: 'a dead letter' });

    const stats = await aegis('events', 'stats', '--transport', transport, '--json');
    expect(stats.error).toBeUndefined();
    expect(JSON.parse(stats.stdout).groups).toContainEqual({ transport, topic: 'cli.poison', group: 'ops', pending: 0, lag: 0 });

    const dlq = await aegis('events', 'dlq', '--transport', transport, '--json');
    const [entry] = JSON.parse(dlq.stdout).dead_letters;
    expect(entry).toMatchObject({ topic: 'cli.poison', group: 'ops', messageId: `poison-${transport}`, error: 'always fails', deliveryCount: 1, payload: { n: 1 } });
    expect((await aegis('events', 'dlq', '--transport', transport)).stdout).toContain('always fails');

    const replay = await aegis('events', 'replay', entry.id, '--transport', transport, '--json');
    expect(JSON.parse(replay.stdout)).toEqual({ transport, replayed: 1 });
    await waitFor(() => attempts === 2, { what: 'the replayed attempt' });

    const missing = await aegis('events', 'replay', '999999', '--transport', transport);
    expect(missing.error).toMatchObject({ code: 'NOT_FOUND' });
  });
});
