/**
 * A Redis Streams subscription: a dedicated connection blocks in `XREADGROUP` (a blocked
 * connection cannot serve anyone else), while acks, claims and dead letters go through the
 * shared client, where node-redis pipelines them. Acks are batched into one `XACK` per tick.
 *
 * Redelivery: a failed entry stays pending; after its backoff this consumer takes it again with
 * `XCLAIM` (which counts the delivery). A crashed consumer's entries are taken by any live one
 * with `XAUTOCLAIM` once idle for `claimIdleMs`; a long handler keeps its entry fresh with
 * `XCLAIM … JUSTID` (no count), the counterpart of JetStream's `working()`.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { RESP_TYPES } from 'redis';
import type { AnyRedisClient } from '../dedupe/redis-dedupe-store.js';
import { ConcurrencyLimiter } from './concurrency-limiter.js';
import type { Delivery, DeliveryNext, Outcome } from './delivery.js';
import type { ResolvedSubscribeOptions } from './event-bus-options.js';
import { entryEnvelope, entryTrace, headersWithMessageId, toRawEntry, type RawEntry } from './redis-keys.js';
import type { RedisContext } from './redis-transport.js';
import type { EventSubscription } from './types.js';
import type { SubscriptionHooks } from './event-transport.js';

type StreamReply = Array<{ name: unknown; messages: Array<{ id: unknown; message: unknown }> }> | null;

export async function subscribeRedis(
  ctx: RedisContext,
  topic: string,
  options: ResolvedSubscribeOptions,
  pipeline: DeliveryNext,
  hooks: SubscriptionHooks = {},
): Promise<EventSubscription> {
  const { client, binary, keys } = ctx;
  const durable = options.qos !== 0;
  const key = durable ? keys.durable(topic) : keys.volatile(topic);
  const group = options.group;
  const consumer = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = ctx.logger.child({ topic, group, consumer });
  const claimIdleMs = ctx.options.claimIdleMs;

  try {
    await client.xGroupCreate(key, group, durable && options.from === 'all' ? '0' : '$', { MKSTREAM: true });
  } catch (err) {
    if (!String(err).includes('BUSYGROUP')) throw err;
  }
  if (durable) await client.sAdd(keys.topics, topic);

  const reader = client.duplicate() as AnyRedisClient;
  reader.on('error', (err: unknown) => log.debug({ err }, 'event reader connection error'));
  await reader.connect();
  const readerBinary = reader.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as AnyRedisClient;

  const limiter = new ConcurrencyLimiter(options.concurrency);
  const owned = new Set<string>(); // entries this consumer is handling or will retry
  const timers = new Set<NodeJS.Timeout>();
  const tasks = new Set<Promise<unknown>>();
  let closing = false;
  // One sweeper per subscription: entries whose handler runs longer than a third of the claim
  // threshold get their idle time reset (XCLAIM JUSTID does not count a delivery), so live
  // consumers do not steal them; QoS 2 renews their dedupe leases on the same tick (ADR 0027).
  const inFlight = new Map<string, number>();
  const third = Math.max(30, Math.floor(claimIdleMs / 3));
  const { sweep } = hooks;
  const sweeper = setInterval(() => {
    const now = Date.now();
    const stale = [...inFlight].filter(([, started]) => now - started >= third).map(([id]) => id);
    if (stale.length > 0) track(client.xClaimJustId(key, group, consumer, 0, stale));
    sweep?.(now);
  }, third);
  sweeper.unref();
  const track = (p: Promise<unknown>) => {
    const t = p.catch((err: unknown) => log.error({ err }, 'event subscription task failed')).finally(() => tasks.delete(t));
    tasks.add(t);
  };

  // ── acks, batched per tick ────────────────────────────────────────────────
  let ackBatch: string[] = [];
  const ack = (id: string) => {
    if (ackBatch.length === 0) setImmediate(() => track(flushAcks()));
    ackBatch.push(id);
  };
  const flushAcks = async () => {
    const ids = ackBatch;
    ackBatch = [];
    if (ids.length > 0) await client.xAck(key, group, ids);
  };

  // ── one delivery ──────────────────────────────────────────────────────────
  const settle = async (entry: RawEntry, delivery: Delivery, outcome: Outcome): Promise<void> => {
    if (!durable) return; // NOACK: nothing is pending
    if (outcome.type === 'ack') {
      owned.delete(entry.id);
      ack(entry.id);
    } else if (outcome.type === 'dead-letter') {
      // One transaction: the entry moves to the dead letters and leaves the pending list together.
      await client
        .multi()
        .xAdd(keys.deadLetters, '*', {
          h: headersWithMessageId(entry, delivery.messageId),
          d: entry.fields.d ?? Buffer.alloc(0),
          topic,
          group,
          error: outcome.error,
          deliveries: String(delivery.deliveryCount),
          at: String(Date.now()),
          source: entry.id,
        })
        .xAck(key, group, entry.id)
        .exec();
      owned.delete(entry.id);
    } else {
      const wanted = outcome.type === 'fail' ? 0 : outcome.delayMs;
      // Retry before another consumer's XAUTOCLAIM would take it, or both would count a delivery.
      scheduleRetry(entry.id, delivery.deliveryCount, Math.min(wanted, Math.floor(claimIdleMs / 2)));
    }
  };

  const handle = async (entry: RawEntry, deliveryCount: number): Promise<void> => {
    owned.add(entry.id);
    const env = entryEnvelope(entry);
    const delivery: Delivery = {
      transport: 'redis',
      topic,
      group,
      messageId: env.messageId,
      // Entry ids come from Redis's clock, so a recreated stream does not reuse them.
      dedupeId: env.messageId,
      key: env.key,
      qos: env.qos,
      headers: env.user,
      data: entry.fields.d ?? new Uint8Array(0),
      deliveryCount,
      trace: env.trace ?? entryTrace(entry),
    };
    if (durable) inFlight.set(entry.id, Date.now());
    let outcome: Outcome;
    try {
      outcome = await pipeline(delivery);
    } finally {
      inFlight.delete(entry.id);
    }
    await settle(entry, delivery, outcome);
  };

  const start = (entry: RawEntry, deliveryCount: number): void =>
    limiter.run(() => handle(entry, deliveryCount), (err) => log.error({ err, id: entry.id }, 'event delivery failed'));
  /** Starts the delivery now, or returns what to await first when every slot is taken (no promise per entry otherwise). */
  const dispatch = (entry: RawEntry, deliveryCount: number): Promise<void> | undefined => {
    if (limiter.full) return limiter.slot().then(() => start(entry, deliveryCount));
    start(entry, deliveryCount);
    return undefined;
  };

  const scheduleRetry = (id: string, deliveryCount: number, delayMs: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(
        (async () => {
          if (closing) return; // stays pending; XAUTOCLAIM hands it to a live consumer
          const claimed = (await binary.xClaim(key, group, consumer, 0, id)) as Array<{ id: unknown; message: unknown } | null>;
          const raw = claimed[0];
          if (raw === undefined || raw === null) {
            owned.delete(id); // trimmed or deleted meanwhile
            return;
          }
          await dispatch(toRawEntry(raw), deliveryCount + 1);
        })(),
      );
    }, delayMs);
    timer.unref();
    timers.add(timer);
  };

  // ── reclaim of entries left by dead consumers ─────────────────────────────
  const reclaim = async () => {
    let cursor = '0-0';
    for (let round = 0; round < 10 && !closing; round++) {
      const res = (await binary.xAutoClaim(key, group, consumer, claimIdleMs, cursor, { COUNT: 100 })) as {
        nextId: unknown;
        messages: Array<{ id: unknown; message: unknown } | null>;
      };
      const entries = res.messages.filter((m): m is { id: unknown; message: unknown } => m !== null).map(toRawEntry);
      const fresh = entries.filter((e) => !owned.has(e.id));
      if (fresh.length > 0) {
        // XAUTOCLAIM does not return delivery counts; read them from the pending list.
        const pending = (await client.xPendingRange(key, group, fresh[0]!.id, fresh[fresh.length - 1]!.id, fresh.length * 2, { consumer })) as Array<{
          id: string;
          deliveriesCounter: number;
        }>;
        const counts = new Map(pending.map((p) => [p.id, p.deliveriesCounter]));
        for (const entry of fresh) {
          owned.add(entry.id);
          await dispatch(entry, counts.get(entry.id) ?? 2);
        }
      }
      cursor = String(res.nextId);
      if (cursor === '0-0') break;
    }
  };
  let reclaimTimer: NodeJS.Timeout | undefined;
  const scheduleReclaim = () => {
    reclaimTimer = setTimeout(() => {
      track(reclaim().finally(() => !closing && scheduleReclaim()));
    }, Math.max(50, Math.floor(claimIdleMs / 2)));
    reclaimTimer.unref();
  };

  // ── the read loop ─────────────────────────────────────────────────────────
  const readLoop = async () => {
    while (!closing) {
      let reply: StreamReply;
      try {
        reply = (await readerBinary.xReadGroup(group, consumer, { key, id: '>' }, {
          COUNT: Math.max(options.concurrency * 2, 8),
          BLOCK: ctx.options.blockMs,
          ...(durable ? {} : { NOACK: true }),
        }));
      } catch (err) {
        if (closing) return;
        log.error({ err }, 'XREADGROUP failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500).unref());
        continue;
      }
      for (const stream of reply ?? []) {
        for (const m of stream.messages) {
          const slot = dispatch(toRawEntry(m), 1);
          if (slot !== undefined) await slot;
        }
      }
    }
  };

  const loop = readLoop();
  if (durable) {
    track(reclaim()); // entries this group left pending before we started
    scheduleReclaim();
  }

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      clearTimeout(reclaimTimer);
      for (const t of timers) clearTimeout(t);
      await loop;
      await limiter.idle();
      while (tasks.size > 0) await Promise.all([...tasks]);
      await limiter.idle();
      // Only now: handlers still running at close keep their entries and QoS 2 leases fresh
      // until they finish (as on NATS), or a long one could lose its lease while we wait for it.
      clearInterval(sweeper);
      while (tasks.size > 0) await Promise.all([...tasks]);
      await flushAcks();
      await reader.close().catch(() => reader.destroy());
    })());
  return { topic, group, transport: 'redis', close, [Symbol.asyncDispose]: close };
}

