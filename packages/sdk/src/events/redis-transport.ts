/**
 * The Redis Streams transport: one stream per topic (`XADD MAXLEN ~`), consumer groups read with
 * `XREADGROUP`, `XACK` after success, `XAUTOCLAIM` of entries a dead consumer left pending.
 * QoS 0 uses a short separate stream read with `NOACK` (no pending list: at most once, still
 * balanced across a group). QoS 2 publishes are de-duplicated by message id for the duplicate
 * window in one Lua script, the Redis counterpart of `Nats-Msg-Id`.
 *
 * Durability is Redis persistence: with `appendonly no` a Redis restart can lose acknowledged
 * events, so `start()` warns about it.
 */
import { AegisError, decode } from '@aegis-ipc/protocol';
import type { Logger } from 'pino';
import { RESP_TYPES } from 'redis';
import type { AnyRedisClient } from '../dedupe/redis-dedupe-store.js';
import type { DeliveryNext } from './delivery.js';
import type { ResolvedEventBusOptions, ResolvedSubscribeOptions } from './event-bus-options.js';
import type { EventTransport, OutgoingEvent } from './event-transport.js';
import { entryEnvelope, redisKeys, toRawEntry, type RedisKeys } from './redis-keys.js';
import { subscribeRedis } from './redis-subscription.js';
import type { DeadLetter, PublishResult, EventSubscription, TopicGroupStats } from './types.js';

/** XADD only if the message id was not published within the window (atomic: scripts run alone). */
const PUBLISH_ONCE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'h', ARGV[2], 'd', ARGV[3])
redis.call('SET', KEYS[2], id, 'PX', ARGV[4])
return id`;

/**
 * Per entry i: `XADD KEYS[i] MAXLEN ~ ARGV[3i-2] * h ARGV[3i-1] d ARGV[3i]`. pcall, so one failed
 * XADD fails only its own publish: the reply is the entry id, or the error text after a `!`.
 */
const XADD_MANY = `
local out = {}
for i, key in ipairs(KEYS) do
  local r = redis.pcall('XADD', key, 'MAXLEN', '~', ARGV[3 * i - 2], '*', 'h', ARGV[3 * i - 1], 'd', ARGV[3 * i])
  if type(r) == 'table' and r.err then out[i] = '!' .. r.err else out[i] = r end
end
return out`;

/** Most publishes one `XADD_MANY` call carries. */
const MAX_XADD_BATCH = 256;

interface PendingXadd {
  readonly key: string;
  readonly maxLen: string;
  readonly h: string;
  readonly d: Buffer;
  resolve(): void;
  reject(err: unknown): void;
}

export interface RedisContext {
  readonly client: AnyRedisClient;
  /** Same connection, replies as Buffers (payloads are MessagePack). */
  readonly binary: AnyRedisClient;
  readonly keys: RedisKeys;
  readonly options: ResolvedEventBusOptions;
  readonly logger: Logger;
}

export class RedisTransport implements EventTransport {
  readonly name = 'redis' as const;
  private readonly ctx: RedisContext;
  private started = false;
  private publishOnceSha: string | undefined;
  private xaddManySha: string | undefined;
  private xadds: PendingXadd[] = [];

  constructor(client: AnyRedisClient, options: ResolvedEventBusOptions, logger: Logger) {
    this.ctx = {
      client,
      binary: client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as AnyRedisClient,
      keys: redisKeys(options.redisKeyPrefix),
      options,
      logger,
    };
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      const config = (await this.ctx.client.configGet('appendonly')) as Record<string, string>;
      if (config.appendonly !== 'yes') {
        this.ctx.logger.warn(
          { appendonly: config.appendonly },
          'Redis appendonly is off: QoS 1/2 events acknowledged by Redis can be lost if Redis restarts (set appendonly yes)',
        );
      }
    } catch (err) {
      this.ctx.logger.warn({ err }, 'could not read Redis appendonly (CONFIG disabled?); QoS 1/2 durability depends on it');
    }
  }

  async publish(event: OutgoingEvent): Promise<PublishResult> {
    const { keys, options } = this.ctx;
    const h = JSON.stringify(event.headers);
    const size = event.data.length + Buffer.byteLength(h);
    if (size > options.redisMaxPayloadBytes) {
      throw new AegisError('PAYLOAD_TOO_LARGE', `event of ${size} bytes exceeds the Redis event limit of ${options.redisMaxPayloadBytes}`, {
        details: { size, limit: options.redisMaxPayloadBytes },
      });
    }
    const data = Buffer.from(event.data.buffer, event.data.byteOffset, event.data.length);
    try {
      if (event.qos === 2) {
        const id = await this.publishOnce({
          keys: [keys.durable(event.topic), keys.published(event.messageId)],
          arguments: [String(options.redisMaxLen), h, data, String(options.duplicateWindowMs)],
        });
        return { messageId: event.messageId, duplicate: id === null };
      }
      const volatile = event.qos === 0;
      await this.xadd(volatile ? keys.volatile(event.topic) : keys.durable(event.topic), volatile ? options.redisVolatileMaxLen : options.redisMaxLen, h, data);
      return { messageId: event.messageId, duplicate: false };
    } catch (err) {
      throw new AegisError('PUBLISH_FAILED', `Redis did not accept the event on ${event.topic}: ${String(err)}`, {
        cause: err,
        details: { topic: event.topic, message_id: event.messageId },
      });
    }
  }

  /**
   * XADD, with the other XADDs of this event-loop turn: node-redis arms an abort timer per
   * command, which cost more than the XADD itself on the events bench (ADR 0023). A batch goes out
   * as one `EVALSHA` running the same XADD per entry; a lone one is the plain command. Each
   * publish still resolves only on Redis's reply for its own entry.
   */
  private xadd(key: string, maxLen: number, h: string, d: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.xadds.push({ key, maxLen: String(maxLen), h, d, resolve, reject }) === 1) setImmediate(() => void this.flushXadds());
    });
  }

  private async flushXadds(): Promise<void> {
    const batch = this.xadds.splice(0, MAX_XADD_BATCH);
    if (this.xadds.length > 0) setImmediate(() => void this.flushXadds());
    const { client } = this.ctx;
    try {
      if (batch.length === 1) {
        const [one] = batch as [PendingXadd];
        await client.xAdd(one.key, '*', { h: one.h, d: one.d }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: Number(one.maxLen) } });
        one.resolve();
        return;
      }
      const args = { keys: batch.map((p) => p.key), arguments: batch.flatMap((p) => [p.maxLen, p.h, p.d]) };
      let replies: unknown;
      try {
        replies = this.xaddManySha === undefined ? undefined : await client.evalSha(this.xaddManySha, args);
      } catch (err) {
        if (!String(err).includes('NOSCRIPT')) throw err;
      }
      if (replies === undefined) {
        this.xaddManySha = String(await client.scriptLoad(XADD_MANY));
        replies = await client.evalSha(this.xaddManySha, args);
      }
      const out = replies as unknown[];
      batch.forEach((p, i) => {
        const reply = out[i];
        if (typeof reply === 'string' && !reply.startsWith('!')) p.resolve();
        else p.reject(new Error(typeof reply === 'string' ? reply.slice(1) : `unexpected XADD reply ${String(reply)}`));
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /** EVALSHA of the loaded script (no script body per publish); EVAL after a Redis restart forgot it. */
  private async publishOnce(args: { keys: string[]; arguments: Array<string | Buffer> }): Promise<unknown> {
    const { client } = this.ctx;
    if (this.publishOnceSha !== undefined) {
      try {
        return await client.evalSha(this.publishOnceSha, args);
      } catch (err) {
        if (!String(err).includes('NOSCRIPT')) throw err;
      }
    }
    this.publishOnceSha = (await client.scriptLoad(PUBLISH_ONCE)) as string;
    return client.evalSha(this.publishOnceSha, args);
  }

  /** Nothing to release: the connection is the caller's. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  subscribe(topic: string, options: ResolvedSubscribeOptions, pipeline: DeliveryNext): Promise<EventSubscription> {
    return subscribeRedis(this.ctx, topic, options, pipeline);
  }

  async stats(): Promise<TopicGroupStats[]> {
    const { client, keys } = this.ctx;
    const out: TopicGroupStats[] = [];
    const topics = (await client.sMembers(keys.topics)) as string[];
    for (const topic of topics.sort()) {
      const groups = (await client.xInfoGroups(keys.durable(topic)).catch(() => [])) as Array<Record<string, unknown>>;
      for (const g of groups) {
        out.push({ transport: 'redis', topic, group: String(g.name), pending: Number(g.pending ?? 0), lag: Number(g.lag ?? 0) });
      }
    }
    return out;
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const { binary, keys } = this.ctx;
    const entries = (await binary.xRange(keys.deadLetters, '-', '+', { COUNT: limit })) as Array<{ id: unknown; message: unknown }>;
    return entries.map((raw) => {
      const entry = toRawEntry(raw);
      const f = entry.fields;
      const env = entryEnvelope(entry);
      let payload: unknown;
      try {
        payload = f.d === undefined ? undefined : decode(f.d);
      } catch {
        payload = `<${f.d?.length ?? 0} undecodable bytes>`;
      }
      return {
        id: entry.id,
        transport: 'redis',
        topic: f.topic?.toString() ?? '',
        group: f.group?.toString() ?? '',
        messageId: env.messageId,
        error: f.error?.toString() ?? '',
        deliveryCount: Number(f.deliveries?.toString() ?? 0),
        deadLetteredAt: Number(f.at?.toString() ?? 0),
        payload,
      } satisfies DeadLetter;
    });
  }

  async replay(id: string): Promise<boolean> {
    const { binary, client, keys, options } = this.ctx;
    const [raw] = (await binary.xRange(keys.deadLetters, id, id).catch(() => [])) as Array<{ id: unknown; message: unknown }>;
    if (raw === undefined) return false;
    const entry = toRawEntry(raw);
    const topic = entry.fields.topic?.toString();
    if (topic === undefined || entry.fields.d === undefined || entry.fields.h === undefined) return false;
    // Same message id, so QoS 2 groups that completed it skip it; MULTI so it moves, not copies.
    await client
      .multi()
      .xAdd(keys.durable(topic), '*', { h: entry.fields.h, d: entry.fields.d }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: options.redisMaxLen } })
      .xDel(keys.deadLetters, id)
      .exec();
    return true;
  }
}

