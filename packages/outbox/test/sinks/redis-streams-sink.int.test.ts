import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { connectTestRedis, deleteKeysWithPrefix, uniqueName, waitFor, type TestRedis } from '@aegis-ipc/testing';
import { OutboxRelay, RedisStreamsSink, stats } from '../../src/index.js';
import { createOutboxFixture, submitOne, type OutboxFixture } from '../fixtures/outbox-fixture.js';

describe('RedisStreamsSink', () => {
  let fx: OutboxFixture;
  let redis: TestRedis;
  const prefix = `${uniqueName('aegis_test')}:`;

  beforeAll(async () => {
    fx = await createOutboxFixture();
    redis = await connectTestRedis();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
    await fx.close();
  });

  it('relays events to a Redis stream in order, and a re-publish of the same event adds nothing', async () => {
    const sink = await RedisStreamsSink.create({ keyPrefix: prefix });
    const relay = new OutboxRelay(fx.db, sink, { pollIntervalMs: 60_000 });
    await relay.start();
    try {
      const writer = fx.writer();
      const session = randomUUID();
      for (let n = 1; n <= 10; n++) await submitOne(writer, session, n);
      await waitFor(async () => (await stats(fx.db)).sent === 10, { timeoutMs: 5_000, what: '10 rows SENT' });
      const key = sink.streamKey(fx.topic);
      const entries = (await redis.xRange(key, '-', '+')) ?? [];
      expect(entries).toHaveLength(10);
      expect(entries.map((e) => JSON.parse(e.message.event ?? '{}').payload.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(entries[0]?.message.key).toBe(session);

      // the relay publishes at least once: a second publish of the same event id is dropped
      const first = entries[0]!;
      await sink.publish({
        id: 1,
        eventId: first.message.event_id ?? '',
        topic: fx.topic,
        key: session,
        payload: JSON.parse(first.message.event ?? '{}'),
        headers: {},
        attempts: 0,
        createdAt: new Date(),
      });
      expect(await redis.xLen(key)).toBe(10);
    } finally {
      await relay.close();
      await sink.close();
    }
  });
});
