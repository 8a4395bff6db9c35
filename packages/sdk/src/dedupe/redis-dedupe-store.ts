/**
 * {@link DedupeStore} on Redis: `SET NX PX` takes the lease atomically (and lets it expire by
 * itself when the holder crashes), `SET PX` replaces it with the done record and its TTL.
 *
 * Durability follows Redis persistence: with `appendonly no` a Redis restart forgets every
 * record, so ids completed before the restart may be processed again.
 */
import { AegisError, decode, encode } from '@aegis-ipc/protocol';
import { RESP_TYPES, type RedisClientType } from 'redis';
import { asDedupeRecord, type ClaimResult, type DedupeRecord, type DedupeStore } from './dedupe-store.js';

/** Options of {@link RedisDedupeStore}. */
export interface RedisDedupeStoreOptions {
  /** Prefix of every key the store writes. @default 'aegis:dedupe:' */
  readonly keyPrefix?: string;
}

/** @default 'aegis:dedupe:' */
export const DEFAULT_REDIS_DEDUPE_PREFIX = 'aegis:dedupe:';

/** The subset of a node-redis client the store needs (any RESP version, any modules). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- node-redis client generics vary per createClient() options
export type AnyRedisClient = RedisClientType<any, any, any, any, any>;

/** A Redis dedupe store over a shared, connected client. */
export class RedisDedupeStore implements DedupeStore {
  private readonly prefix: string;
  private readonly binary: AnyRedisClient;

  constructor(
    private readonly client: AnyRedisClient,
    options: RedisDedupeStoreOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? DEFAULT_REDIS_DEDUPE_PREFIX;
    // Records are MessagePack: read them back as Buffers, not as UTF-8 strings.
    this.binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as AnyRedisClient;
  }

  async claim(id: string, leaseMs: number): Promise<ClaimResult> {
    const key = this.prefix + id;
    const lease = Buffer.from(encode({ s: 'lease', until: Date.now() + leaseMs } satisfies DedupeRecord));
    try {
      const set = await this.client.set(key, lease, { condition: 'NX', expiration: { type: 'PX', value: leaseMs } });
      if (set !== null) return { state: 'claimed' };
      const raw = (await this.binary.get(key)) as Buffer | null;
      // Expired between SET and GET: the next delivery will claim it.
      if (raw === null) return { state: 'in-progress' };
      const record = asDedupeRecord(decode(raw));
      return record.s === 'done' ? { state: 'done', response: record.r } : { state: 'in-progress' };
    } catch (err) {
      throw storageFailure(`dedupe claim of ${id} failed`, err);
    }
  }

  async complete(id: string, response: unknown, ttlMs: number): Promise<void> {
    try {
      await this.client.set(this.prefix + id, Buffer.from(encode({ s: 'done', r: response } satisfies DedupeRecord)), {
        expiration: { type: 'PX', value: ttlMs },
      });
    } catch (err) {
      throw storageFailure(`dedupe complete of ${id} failed`, err);
    }
  }

  async release(id: string): Promise<void> {
    try {
      await this.client.del(this.prefix + id);
    } catch (err) {
      throw storageFailure(`dedupe release of ${id} failed`, err);
    }
  }
}

function storageFailure(message: string, cause: unknown): AegisError<'STORAGE_FAILURE'> {
  if (cause instanceof AegisError && cause.code === 'STORAGE_FAILURE') return cause as AegisError<'STORAGE_FAILURE'>;
  return new AegisError('STORAGE_FAILURE', `${message}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}
