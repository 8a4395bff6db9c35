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
import type { EventTransport, OutgoingEvent, SubscriptionHooks } from './event-transport.js';
import { hasHeaders } from './event-headers.js';
import { entryEnvelope, redisKeys, toRawEntry, type RedisKeys } from './redis-keys.js';
import { subscribeRedis } from './redis-subscription.js';
import type { DeadLetter, PublishResult, EventSubscription, TopicGroupStats } from './types.js';

/**
 * The entries of a batch grouped by stream, so a stream's name and bound travel once: for each
 * `KEYS[k]`, ARGV holds `maxLen, n` and then `n` pairs `h, d`; each pair becomes
 * `XADD KEYS[k] MAXLEN ~ maxLen * [h <h>] d <d>`, the `h` field only when there are headers (a
 * plain QoS 1 event has none, ADR 0025). pcall, so one failed XADD fails only its own publish:
 * the replies, in ARGV order, are the entry id or the error text after a `!`.
 */
const XADD_MANY = `
local out = {}
local a = 1
for _, key in ipairs(KEYS) do
  local maxLen, n = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  for _ = 1, n do
    local h, d = ARGV[a], ARGV[a + 1]
    a = a + 2
    local r
    if h == '' then
      r = redis.pcall('XADD', key, 'MAXLEN', '~', maxLen, '*', 'd', d)
    else
      r = redis.pcall('XADD', key, 'MAXLEN', '~', maxLen, '*', 'h', h, 'd', d)
    end
    if type(r) == 'table' and r.err then out[#out + 1] = '!' .. r.err else out[#out + 1] = r end
  end
end
return out`;

/**
 * QoS 2, per entry i: XADD only if the message id was not published within the window (atomic:
 * scripts run alone), over KEYS[2i-1] (stream), KEYS[2i] (published marker) and ARGV[4i-3..4i]
 * (maxlen, h, d, window). Reply: the entry id, 0 for a duplicate (an id
 * published earlier, also earlier in this batch), or `!` + the error text.
 */
const PUBLISH_ONCE_MANY = `
local out = {}
for i = 1, #KEYS / 2 do
  if redis.call('EXISTS', KEYS[2 * i]) == 1 then
    out[i] = 0
  else
    local r = redis.pcall('XADD', KEYS[2 * i - 1], 'MAXLEN', '~', ARGV[4 * i - 3], '*', 'h', ARGV[4 * i - 2], 'd', ARGV[4 * i - 1])
    if type(r) == 'table' and r.err then
      out[i] = '!' .. r.err
    else
      redis.call('SET', KEYS[2 * i], r, 'PX', ARGV[4 * i])
      out[i] = r
    end
  end
end
return out`;

/** Most publishes one `XADD_MANY` / `PUBLISH_ONCE_MANY` call carries. */
const MAX_XADD_BATCH = 256;

interface PendingXadd {
  readonly key: string;
  readonly maxLen: string;
  readonly h: string;
  readonly d: Buffer;
  /** QoS 2: the message id's published marker and its window (ms). */
  readonly once: { readonly key: string; readonly windowMs: string } | undefined;
  /** The stored entry's id, or undefined when QoS 2 found the message id published within the window and stored nothing. */
  resolve(entryId: string | undefined): void;
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

/** A batch's entries per stream, streams in first-seen order. */
function groupByStream(batch: readonly PendingXadd[]): readonly PendingXadd[][] {
  // The common batch is one busy topic: no map, no copies.
  const first = batch[0]?.key;
  if (batch.every((p) => p.key === first)) return [batch as PendingXadd[]];
  const byKey = new Map<string, PendingXadd[]>();
  for (const p of batch) {
    const list = byKey.get(p.key);
    if (list === undefined) byKey.set(p.key, [p]);
    else list.push(p);
  }
  return [...byKey.values()];
}

/** `XADD_MANY` arguments: per stream its bound and entry count, then each entry's `h, d`. */
function xaddManyArgs(groups: readonly PendingXadd[][]): { keys: string[]; arguments: Array<string | Buffer> } {
  const keys: string[] = [];
  const args: Array<string | Buffer> = [];
  for (const group of groups) {
    const [first] = group as [PendingXadd];
    keys.push(first.key);
    args.push(first.maxLen, String(group.length));
    for (const p of group) args.push(p.h, p.d);
  }
  return { keys, arguments: args };
}

export class RedisTransport implements EventTransport {
  readonly name = 'redis' as const;
  private readonly ctx: RedisContext;
  private started = false;
  private readonly shas = new Map<string, string>();
  private xadds: PendingXadd[] = [];
  private onceXadds: PendingXadd[] = [];
  /** The stream bounds as the script arguments they become (not converted per publish). */
  private readonly maxLen: string;
  private readonly volatileMaxLen: string;

  constructor(client: AnyRedisClient, options: ResolvedEventBusOptions, logger: Logger) {
    this.ctx = {
      client,
      binary: client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as AnyRedisClient,
      keys: redisKeys(options.redisKeyPrefix),
      options,
      logger,
    };
    this.maxLen = String(options.redisMaxLen);
    this.volatileMaxLen = String(options.redisVolatileMaxLen);
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
    // No `h` field when there is nothing to say: a plain QoS 1 event is its payload (ADR 0025).
    const h = hasHeaders(event.headers) ? JSON.stringify(event.headers) : '';
    const size = h === '' ? event.data.length : event.data.length + Buffer.byteLength(h);
    if (size > options.redisMaxPayloadBytes) {
      throw new AegisError('PAYLOAD_TOO_LARGE', `event of ${size} bytes exceeds the Redis event limit of ${options.redisMaxPayloadBytes}`, {
        details: { size, limit: options.redisMaxPayloadBytes },
      });
    }
    const data = Buffer.from(event.data.buffer, event.data.byteOffset, event.data.length);
    try {
      if (event.qos === 2 && event.messageId !== undefined) {
        const once = { key: keys.published(event.messageId), windowMs: String(options.duplicateWindowMs) };
        const entryId = await this.xadd(keys.durable(event.topic), this.maxLen, h, data, once);
        return { messageId: event.messageId, duplicate: entryId === undefined };
      }
      const volatile = event.qos === 0;
      const entryId = await this.xadd(volatile ? keys.volatile(event.topic) : keys.durable(event.topic), volatile ? this.volatileMaxLen : this.maxLen, h, data, undefined);
      // Without the caller's id a QoS 1 event is known by its entry id, as every delivery sees it (ADR 0025).
      return { messageId: event.messageId ?? entryId ?? '', duplicate: false };
    } catch (err) {
      throw new AegisError('PUBLISH_FAILED', `Redis did not accept the event on ${event.topic}: ${String(err)}`, {
        cause: err,
        details: { topic: event.topic, message_id: event.messageId },
      });
    }
  }

  /**
   * XADD (QoS 2: `PUBLISH_ONCE_MANY`), with the others of this event-loop turn: node-redis arms an
   * abort timer per command, which cost more than the XADD itself on the events bench (ADR 0023).
   * A batch goes out as one `EVALSHA` running the same commands per entry; a lone QoS 0/1 publish
   * is the plain XADD. Each publish still resolves only on Redis's reply for its own entry.
   */
  private xadd(key: string, maxLen: string, h: string, d: Buffer, once: PendingXadd['once']): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const queue = once === undefined ? this.xadds : this.onceXadds;
      if (queue.push({ key, maxLen, h, d, once, resolve, reject }) === 1) setImmediate(() => void this.flushXadds(once !== undefined));
    });
  }

  private async flushXadds(once: boolean): Promise<void> {
    const queue = once ? this.onceXadds : this.xadds;
    const batch = queue.splice(0, MAX_XADD_BATCH);
    if (queue.length > 0) setImmediate(() => void this.flushXadds(once));
    try {
      if (!once && batch.length === 1) {
        const [one] = batch as [PendingXadd];
        const entryId = await this.ctx.client.xAdd(one.key, '*', one.h === '' ? { d: one.d } : { h: one.h, d: one.d }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: Number(one.maxLen) } });
        one.resolve(String(entryId));
        return;
      }
      const groups = once ? [batch] : groupByStream(batch);
      const ordered = groups.length === 1 ? batch : groups.flat(); // the order of the replies
      const replies = once
        ? await this.script(PUBLISH_ONCE_MANY, {
            keys: batch.flatMap((p) => [p.key, p.once!.key]),
            arguments: batch.flatMap((p) => [p.maxLen, p.h, p.d, p.once!.windowMs]),
          })
        : await this.script(XADD_MANY, xaddManyArgs(groups));
      const out = replies as unknown[];
      ordered.forEach((p, i) => {
        const reply = out[i];
        if (reply === 0) p.resolve(undefined);
        else if (typeof reply === 'string' && !reply.startsWith('!')) p.resolve(reply);
        else p.reject(new Error(typeof reply === 'string' ? reply.slice(1) : `unexpected XADD reply ${String(reply)}`));
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /** EVALSHA of the loaded script (no script body per call); loads it again after a Redis restart forgot it. */
  private async script(body: string, args: { keys: string[]; arguments: Array<string | Buffer> }): Promise<unknown> {
    const { client } = this.ctx;
    const sha = this.shas.get(body);
    if (sha !== undefined) {
      try {
        return await client.evalSha(sha, args);
      } catch (err) {
        if (!String(err).includes('NOSCRIPT')) throw err;
      }
    }
    const loaded = String(await client.scriptLoad(body));
    this.shas.set(body, loaded);
    return client.evalSha(loaded, args);
  }

  /** Nothing to release: the connection is the caller's. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  subscribe(topic: string, options: ResolvedSubscribeOptions, pipeline: DeliveryNext, hooks: SubscriptionHooks = {}): Promise<EventSubscription> {
    return subscribeRedis(this.ctx, topic, options, pipeline, hooks);
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

