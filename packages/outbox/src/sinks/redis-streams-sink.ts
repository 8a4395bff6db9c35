/**
 * Publishes outbox rows to Redis Streams (OB-8 second sink): `XADD <prefix><topic>` with the
 * event as JSON. Redis has no publish-side dedupe, so one Lua script sets a per-event marker
 * (`SET NX EX`) and appends only when the marker was new: a re-publish of the same event id
 * within `dedupeTtlSeconds` adds nothing.
 */
import { createClient } from 'redis';
import { AegisError } from '@aegis-ipc/protocol';
import { redactUrl } from '../redact-url.js';
import type { OutboxRecord } from '../types.js';
import type { OutboxSink } from './outbox-sink.js';

export interface RedisStreamsSinkOptions {
  /** @default 'redis://127.0.0.1:6379' */
  readonly url?: string;
  /** Prefix of stream and marker keys. @default 'aegis:' */
  readonly keyPrefix?: string;
  /** How long an event id is remembered for dedupe. @default 86400 */
  readonly dedupeTtlSeconds?: number;
  /** Approximate cap on stream length (`MAXLEN ~`); 0 = unbounded. @default 0 */
  readonly maxLen?: number;
}

// KEYS[1] stream, KEYS[2] marker; ARGV: ttl, maxlen, then field/value pairs.
const PUBLISH_ONCE = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  local args = {KEYS[1]}
  if tonumber(ARGV[2]) > 0 then
    table.insert(args, 'MAXLEN'); table.insert(args, '~'); table.insert(args, ARGV[2])
  end
  table.insert(args, '*')
  for i = 3, #ARGV do table.insert(args, ARGV[i]) end
  return redis.call('XADD', unpack(args))
end
return false`;

function newRedisClient(url: string) {
  return createClient({ url });
}
type RedisClient = ReturnType<typeof newRedisClient>;

export class RedisStreamsSink implements OutboxSink {
  readonly name = 'redis';

  private constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly ttl: number,
    private readonly maxLen: number,
  ) {}

  /**
   * Connects and returns the sink. Once connected the client reconnects by itself (publishes
   * surface failures); a first connection that fails rejects at once instead of retrying
   * unseen forever, so a relay pointed at the wrong Redis says so and stops.
   * @throws AegisError `CONNECTION_FAILED` naming the URL
   */
  static async create(options: RedisStreamsSinkOptions = {}): Promise<RedisStreamsSink> {
    const url = options.url ?? 'redis://127.0.0.1:6379';
    const client = newRedisClient(url);
    const firstError = new Promise<never>((_, reject) => client.once('error', reject));
    client.on('error', () => undefined);
    try {
      await Promise.race([client.connect(), firstError]);
    } catch (err) {
      client.destroy();
      throw new AegisError('CONNECTION_FAILED', `cannot connect to Redis at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err, details: { url: redactUrl(url) } });
    }
    return new RedisStreamsSink(client, options.keyPrefix ?? 'aegis:', options.dedupeTtlSeconds ?? 86_400, options.maxLen ?? 0);
  }

  /** The Redis stream key that records of `topic` go to. */
  streamKey(topic: string): string {
    return `${this.prefix}${topic}`;
  }

  async publish(record: OutboxRecord): Promise<void> {
    await this.client.eval(PUBLISH_ONCE, {
      keys: [this.streamKey(record.topic), `${this.prefix}published:${record.eventId}`],
      arguments: [
        String(this.ttl),
        String(this.maxLen),
        'event_id', record.eventId,
        'key', record.key,
        'event_type', record.payload.event_type,
        'sequence', String(record.payload.sequence),
        'traceparent', record.headers.traceparent ?? '',
        'event', JSON.stringify(record.payload),
      ],
    });
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.quit();
  }
}
