/**
 * Maps an aggregate key to the two-integer advisory lock `(namespace, hash)`. The namespace keeps
 * outbox locks apart from anyone else's advisory locks; a hash collision only makes two
 * aggregates wait for each other, never breaks correctness.
 */

/** classid of every outbox aggregate lock ('OB' in ASCII). */
export const AGGREGATE_LOCK_NAMESPACE = 0x4f42;

/** classid of the migration lock. */
export const MIGRATION_LOCK_NAMESPACE = 0x4f4d;

/** 32-bit FNV-1a of the UTF-8 bytes of `key`, as a signed int4. */
export function aggregateLockHash(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** `SELECT pg_advisory_lock(…);` statements for `keys`, sorted so two writers never deadlock. */
export function advisoryLockStatements(keys: readonly string[]): string {
  const hashes = [...new Set(keys.map(aggregateLockHash))].sort((a, b) => a - b);
  return hashes.map((h) => `SELECT pg_advisory_lock(${AGGREGATE_LOCK_NAMESPACE}, ${h});`).join(' ');
}
