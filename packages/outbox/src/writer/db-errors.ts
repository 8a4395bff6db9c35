/** Recognising the PostgreSQL errors the writer turns into outcomes (same on pg and PGlite). */
import { AegisError } from '@aegis-ipc/protocol';

interface PgErrorLike {
  code?: unknown;
  constraint?: unknown;
}

/** True for a unique violation (23505), optionally of the index/constraint `name`. */
export function isUniqueViolation(err: unknown, name?: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as PgErrorLike;
  return e.code === '23505' && (name === undefined || e.constraint === name);
}

/** True when the transaction lost a race and may simply be retried (40001, 40P01). */
export function isRetryableTransactionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as PgErrorLike).code;
  return code === '40001' || code === '40P01';
}

/** AegisErrors pass through; anything else from the database becomes `STORAGE_FAILURE`. */
export function toStorageError(err: unknown, doing: string): AegisError {
  if (err instanceof AegisError) return err as AegisError;
  const message = err instanceof Error ? err.message : String(err);
  return new AegisError('STORAGE_FAILURE', `${doing}: ${message}`, { cause: err });
}
