/**
 * QOS-2 "bounded stream length" on Redis Streams: every XADD of a topic stream carries
 * `MAXLEN ~ redisMaxLen`, so publishing almost five times the bound leaves the stream near the bound.
 *
 * `~` lets Redis trim only whole radix-tree nodes (cheap, no node is split): after each XADD the
 * stream holds at least the bound (the newest entries are never trimmed below it) and fewer than
 * the bound plus one node's capacity, `stream-node-max-entries` (100 by default; read from the
 * server here). A node also closes early at `stream-node-max-bytes`, which only makes nodes
 * smaller and the trim finer, so bound + node capacity − 1 is the largest length `~` allows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus } from '@aegis-ipc/sdk';
import { decode } from '@aegis-ipc/protocol';
import { RESP_TYPES } from 'redis';
import { Harness } from './helpers.js';

// Not a multiple of the node capacity, so the slack `~` allows shows.
const BOUND = 1_050;
const PUBLISHED = 5_000;
let h: Harness;
let bus: EventBus;

beforeAll(async () => {
  h = await Harness.open();
  bus = await h.bus({ defaultTransport: 'redis', redisMaxLen: BOUND });
});
afterAll(() => h.cleanup());

describe('Redis topic streams are bounded (QOS-2)', () => {
  it(`publishing ${PUBLISHED} events with redisMaxLen ${BOUND} keeps XLEN within the bound plus one node`, async () => {
    const stream = `${h.names.redisKeyPrefix}:s:orders.bounded`;
    const nodeCapacity = Number(Object.values(await h.redis.configGet('stream-node-max-entries'))[0]);
    expect(nodeCapacity).toBeGreaterThan(0);
    let maxSeen = 0;
    // In rounds of 500 (batched into scripts by the transport), watching the length as it grows.
    for (let round = 0; round < PUBLISHED / 500; round++) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => bus.publish('orders.bounded', { n: round * 500 + i }, { qos: 1 })));
      maxSeen = Math.max(maxSeen, await h.redis.xLen(stream));
    }
    const length = await h.redis.xLen(stream);
    console.log(`XLEN after ${PUBLISHED} publishes with MAXLEN ~ ${BOUND}: ${length} (largest seen ${maxSeen}; node capacity ${nodeCapacity})`);
    expect(length).toBeGreaterThanOrEqual(BOUND);
    expect(maxSeen).toBeLessThanOrEqual(BOUND + nodeCapacity - 1);
    expect(length).toBeLessThan(PUBLISHED);
    // What was trimmed is the oldest: the newest event is the last one published.
    const binary = h.redis.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    const [newest] = (await binary.xRevRange(stream, '+', '-', { COUNT: 1 })) as Array<{ message: Record<string, Buffer> }>;
    expect(decode(newest!.message.d!)).toEqual({ n: PUBLISHED - 1 });
  });
});
