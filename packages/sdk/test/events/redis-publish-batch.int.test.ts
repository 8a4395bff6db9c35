/**
 * Redis publishes of one event-loop turn go out as one script running an XADD each (ADR 0023,
 * round 2): every publish still gets its own answer, and one failed XADD fails only its publish.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventBus } from '@aegis-ipc/sdk';
import { decode } from '@aegis-ipc/protocol';
import { RESP_TYPES } from 'redis';
import { Harness } from './helpers.js';

describe('batched Redis publishes', () => {
  let h: Harness;
  let bus: EventBus;

  beforeEach(async () => {
    h = await Harness.open();
    bus = await h.bus({ defaultTransport: 'redis' });
  });
  afterEach(() => h.cleanup());

  it('stores each publish of a turn and fails only the one whose XADD Redis rejects', async () => {
    // A string where the topic's stream should be: XADD answers WRONGTYPE for that key only.
    await h.redis.set(`${h.names.redisKeyPrefix}:s:orders.broken`, 'not a stream');
    const results = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) => bus.publish('orders.fine', { i }, { qos: 1 })),
      bus.publish('orders.broken', { i: -1 }, { qos: 1 }),
      ...Array.from({ length: 10 }, (_, i) => bus.publish('orders.fine', { i: i + 10 }, { qos: 0 })),
    ]);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'PUBLISH_FAILED' });
    expect(String((rejected[0] as PromiseRejectedResult).reason.message)).toContain('WRONGTYPE');
    expect(await h.redis.xLen(`${h.names.redisKeyPrefix}:s:orders.fine`)).toBe(10);
  });

  it('QoS 1 without an id: each publish of a turn spread over several streams gets the entry id of its own event', async () => {
    // Interleaved topics and QoS levels: XADD_MANY groups them by stream, so the replies come
    // back in another order than the publishes; each id must still name that publish's entry.
    const plan = ['a', 'b', 'a', 'c', 'b', 'a', 'c', 'c', 'b', 'a'].map((t, i) => ({ topic: `orders.${t}`, i, qos: i % 4 === 3 ? (0 as const) : (1 as const) }));
    const results = await Promise.all(plan.map((p) => bus.publish(p.topic, { i: p.i }, { qos: p.qos })));
    const binary = h.redis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    for (const [n, p] of plan.entries()) {
      if (p.qos === 0) continue; // a UUID, not a position
      const id = results[n]!.messageId;
      expect(id).toMatch(/^\d+-\d+$/);
      const [entry] = (await binary.xRange(`${h.names.redisKeyPrefix}:s:${p.topic}`, id, id)) as Array<{ message: Record<string, Buffer> }>;
      expect(entry?.message.h).toBeUndefined(); // a plain QoS 1 event has no header field
      expect(decode(entry!.message.d!)).toEqual({ i: p.i });
    }
  });

  it('QoS 2: a message id published twice in one batch is stored once, the second flagged duplicate', async () => {
    const results = await Promise.all([
      bus.publish('orders.once', { n: 1 }, { qos: 2, messageId: 'same-id' }),
      bus.publish('orders.once', { n: 2 }, { qos: 2, messageId: 'other-id' }),
      bus.publish('orders.once', { n: 3 }, { qos: 2, messageId: 'same-id' }),
    ]);
    expect(results.map((r) => r.duplicate)).toEqual([false, false, true]);
    expect(await h.redis.xLen(`${h.names.redisKeyPrefix}:s:orders.once`)).toBe(2);
    // Later (another batch) the id is still within the duplicate window.
    expect((await bus.publish('orders.once', { n: 4 }, { qos: 2, messageId: 'same-id' })).duplicate).toBe(true);
  });
});
