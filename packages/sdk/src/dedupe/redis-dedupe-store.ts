/**
 * {@link DedupeStore} on Redis: `SET NX PX` takes the lease atomically (and lets it expire by
 * itself when the holder crashes), `SET PX` replaces it with the done record and its TTL — or,
 * for exactly-once calls, a script does so only while the key still holds the holder's lease.
 *
 * Claims and completions made in the same event-loop turn (a batch of deliveries) go to Redis as
 * one `EVALSHA` each — the same per-key commands run inside a script — instead of one command per
 * id: node-redis arms an abort timer per command, which cost more than the command itself on the
 * events benchmark (ADR 0023). A lone claim or completion is sent as the plain command.
 *
 * Durability follows Redis persistence: with `appendonly no` a Redis restart forgets every
 * record, so ids completed before the restart may be processed again.
 */
import { AegisError, decode, encode } from '@aegis-ipc/protocol';
import { RESP_TYPES, type RedisClientType } from 'redis';
import { asDedupeRecord, newLeaseOwner, type ClaimResult, type DedupeLease, type DedupePeek, type DedupeRecord, type DedupeStore } from './dedupe-store.js';

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

/** Per key: `SET NX PX` the lease (ARGV 2i-1, 2i); on failure the current value (0 when it expired meanwhile). */
const CLAIM_MANY = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[2 * i - 1], 'NX', 'PX', ARGV[2 * i]) then
    out[i] = 1
  else
    out[i] = redis.call('GET', key) or 0
  end
end
return out`;

/** Per key: `SET value PX ttl` (ARGV 2i-1, 2i). */
const COMPLETE_MANY = `
for i, key in ipairs(KEYS) do redis.call('SET', key, ARGV[2 * i - 1], 'PX', ARGV[2 * i]) end
return #KEYS`;

/**
 * `PEXPIRE` the key (ARGV 2) only while it holds exactly the holder's lease record (ARGV 1): the
 * record carries the holder's owner token, so byte equality is ownership. 1 renewed, 0 lost.
 */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/**
 * Per key: `SET` the done record (ARGV 3i-1) with its TTL (ARGV 3i) only while the key holds
 * exactly the holder's lease record (ARGV 3i-2). 1 written, 0 lost.
 */
const COMPLETE_HELD_MANY = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[3 * i - 2] then
    redis.call('SET', key, ARGV[3 * i - 1], 'PX', ARGV[3 * i])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;

/** `DEL` the key only while it holds exactly the holder's lease record (ARGV 1). 1 deleted, 0 lost. */
const RELEASE_HELD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** A Redis lease: the exact record the holder wrote (renewals keep it and move only its expiry). */
interface RedisLease extends DedupeLease {
  readonly value: Buffer;
}

/** Most ids one script call handles. */
const MAX_BATCH = 256;

interface Pending<T> {
  readonly key: string;
  /** A conditional completion's expected record: the holder's lease. */
  readonly expected?: Buffer;
  readonly value: Buffer;
  readonly ms: number;
  /** A claim's lease, handed to its caller when the claim wins. */
  readonly lease?: RedisLease;
  resolve(result: T): void;
  reject(err: unknown): void;
}

/** A Redis dedupe store over a shared, connected client. */
export class RedisDedupeStore implements DedupeStore {
  private readonly prefix: string;
  private readonly binary: AnyRedisClient;
  private claims: Array<Pending<ClaimResult>> = [];
  private completions: Array<Pending<void>> = [];
  private heldCompletions: Array<Pending<boolean>> = [];
  private readonly shas = new Map<string, string>();

  constructor(
    private readonly client: AnyRedisClient,
    options: RedisDedupeStoreOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? DEFAULT_REDIS_DEDUPE_PREFIX;
    // Records are MessagePack: read them back as Buffers, not as UTF-8 strings.
    this.binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }) as AnyRedisClient;
  }

  claim(id: string, leaseMs: number): Promise<ClaimResult> {
    const owner = newLeaseOwner();
    const value = Buffer.from(encode({ s: 'lease', until: Date.now() + leaseMs, o: owner } satisfies DedupeRecord));
    return new Promise((resolve, reject) => {
      if (this.claims.length === 0) setImmediate(() => void this.flushClaims());
      this.claims.push({ key: this.prefix + id, value, ms: leaseMs, resolve, reject, lease: { id, owner, value } satisfies RedisLease });
    });
  }

  /**
   * `PEXPIRE` only while the key still holds this holder's record (a script: compare and set in
   * one step). A lapsed lease (no record) counts as lost: another copy may have run meanwhile.
   * One command per renewal: renewals come once per sweep per long-running handler, not per event.
   */
  async renew(lease: DedupeLease, leaseMs: number): Promise<DedupeLease | undefined> {
    const { value } = lease as Partial<RedisLease>;
    if (value === undefined) return undefined; // not a lease of this store
    try {
      const renewed = await this.script(RENEW, [this.prefix + lease.id], [value, String(leaseMs)]);
      return renewed === 1 ? lease : undefined;
    } catch (err) {
      throw storageFailure(`dedupe lease renewal of ${lease.id} failed`, err);
    }
  }

  complete(id: string, response: unknown, ttlMs: number): Promise<void> {
    const value = Buffer.from(encode({ s: 'done', r: response } satisfies DedupeRecord));
    return new Promise((resolve, reject) => {
      if (this.completions.length === 0) setImmediate(() => void this.flushCompletions());
      this.completions.push({ key: this.prefix + id, value, ms: ttlMs, resolve, reject });
    });
  }

  /**
   * A script that compares the key with the holder's lease record and writes the done record only
   * on a match; the turn's conditional completions go together, as plain completions do.
   */
  completeIfHeld(lease: DedupeLease, response: unknown, ttlMs: number): Promise<boolean> {
    const { value: expected } = lease as Partial<RedisLease>;
    if (expected === undefined) return Promise.resolve(false); // not a lease of this store
    const value = Buffer.from(encode({ s: 'done', r: response } satisfies DedupeRecord));
    return new Promise((resolve, reject) => {
      if (this.heldCompletions.length === 0) setImmediate(() => void this.flushHeldCompletions());
      this.heldCompletions.push({ key: this.prefix + lease.id, expected, value, ms: ttlMs, resolve, reject });
    });
  }

  /** `DEL` only while the key holds the holder's lease record. */
  async releaseIfHeld(lease: DedupeLease): Promise<boolean> {
    const { value } = lease as Partial<RedisLease>;
    if (value === undefined) return false;
    try {
      return (await this.script(RELEASE_HELD, [this.prefix + lease.id], [value])) === 1;
    } catch (err) {
      throw storageFailure(`dedupe release of ${lease.id} failed`, err);
    }
  }

  private async flushClaims(): Promise<void> {
    const batch = this.claims.splice(0, MAX_BATCH);
    if (this.claims.length > 0) setImmediate(() => void this.flushClaims());
    try {
      if (batch.length === 1) {
        const [one] = batch as [Pending<ClaimResult>];
        const set = await this.client.set(one.key, one.value, { condition: 'NX', expiration: { type: 'PX', value: one.ms } });
        one.resolve(set !== null ? { state: 'claimed', lease: one.lease } : claimResultOf((await this.binary.get(one.key)) as Buffer | null));
        return;
      }
      const replies = (await this.batchScript(CLAIM_MANY, batch)) as Array<number | Buffer>;
      batch.forEach((p, i) => {
        const reply = replies[i];
        p.resolve(reply === 1 ? { state: 'claimed', lease: p.lease } : claimResultOf(Buffer.isBuffer(reply) ? reply : null));
      });
    } catch (err) {
      for (const p of batch) p.reject(storageFailure(`dedupe claim of ${p.key.slice(this.prefix.length)} failed`, err));
    }
  }

  private async flushCompletions(): Promise<void> {
    const batch = this.completions.splice(0, MAX_BATCH);
    if (this.completions.length > 0) setImmediate(() => void this.flushCompletions());
    try {
      if (batch.length === 1) {
        const [one] = batch as [Pending<void>];
        await this.client.set(one.key, one.value, { expiration: { type: 'PX', value: one.ms } });
      } else {
        await this.batchScript(COMPLETE_MANY, batch);
      }
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(storageFailure(`dedupe complete of ${p.key.slice(this.prefix.length)} failed`, err));
    }
  }

  private async flushHeldCompletions(): Promise<void> {
    const batch = this.heldCompletions.splice(0, MAX_BATCH);
    if (this.heldCompletions.length > 0) setImmediate(() => void this.flushHeldCompletions());
    try {
      const written = (await this.script(
        COMPLETE_HELD_MANY,
        batch.map((p) => p.key),
        batch.flatMap((p) => [p.expected!, p.value, String(p.ms)]),
      )) as number[];
      batch.forEach((p, i) => p.resolve(written[i] === 1));
    } catch (err) {
      for (const p of batch) p.reject(storageFailure(`dedupe complete of ${p.key.slice(this.prefix.length)} failed`, err));
    }
  }

  /** `body` over the batch's keys and (value, ms) pairs. */
  private batchScript(body: string, batch: ReadonlyArray<Pending<unknown>>): Promise<unknown> {
    return this.script(
      body,
      batch.map((p) => p.key),
      batch.flatMap((p) => [p.value, String(p.ms)]),
    );
  }

  /** EVALSHA of `body`; loads the script on NOSCRIPT. */
  private async script(body: string, keys: string[], argv: Array<Buffer | string>): Promise<unknown> {
    const args = { keys, arguments: argv };
    const sha = this.shas.get(body);
    if (sha !== undefined) {
      try {
        return await this.binary.evalSha(sha, args);
      } catch (err) {
        if (!String(err).includes('NOSCRIPT')) throw err;
      }
    }
    const loaded = String(await this.client.scriptLoad(body));
    this.shas.set(body, loaded);
    return this.binary.evalSha(loaded, args);
  }

  /** A lease key exists only while it is live (`PX` expires it): any lease record is held. */
  async peek(id: string): Promise<DedupePeek> {
    try {
      const raw = (await this.binary.get(this.prefix + id)) as Buffer | null;
      if (raw === null) return 'free';
      return asDedupeRecord(decode(raw)).s === 'done' ? 'done' : 'held';
    } catch (err) {
      throw storageFailure(`dedupe peek of ${id} failed`, err);
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

/** A failed `SET NX`: done when the record says so; a live lease, or one that expired meanwhile, is in progress. */
function claimResultOf(raw: Buffer | null): ClaimResult {
  // Expired between SET and GET: the next delivery will claim it.
  if (raw === null) return { state: 'in-progress' };
  const record = asDedupeRecord(decode(raw));
  return record.s === 'done' ? { state: 'done', response: record.r } : { state: 'in-progress' };
}

function storageFailure(message: string, cause: unknown): AegisError<'STORAGE_FAILURE'> {
  if (cause instanceof AegisError && cause.code === 'STORAGE_FAILURE') return cause as AegisError<'STORAGE_FAILURE'>;
  return new AegisError('STORAGE_FAILURE', `${message}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
}
