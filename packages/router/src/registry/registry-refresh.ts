/**
 * How heartbeats keep an instance's registry entry alive, and the longest heartbeat interval that
 * can (ADR 0007).
 *
 * The KV bucket drops entries older than its max age (`AEGIS_REGISTRY_TTL_MS`) and heartbeats are
 * not written to KV, so the health monitor rewrites a live entry on the first heartbeat that finds
 * it older than half the TTL. An entry is then at most `TTL / 2 + interval` old when refreshed,
 * which stays under the TTL only while the interval is shorter than `TTL / 2`.
 */
import { AegisError } from '@aegis-ipc/protocol';

/** Age at which a heartbeat rewrites a live registry entry. */
export function registryRefreshAgeMs(registryTtlMs: number): number {
  return registryTtlMs / 2;
}

/** The longest heartbeat interval (whole ms) that keeps an entry refreshed before it expires. */
export function maxHeartbeatIntervalMs(registryTtlMs: number): number {
  return Math.ceil(registryRefreshAgeMs(registryTtlMs)) - 1;
}

/**
 * Refuses a declared heartbeat interval the registry could not keep alive, in the shape of the
 * registration schema's own field errors.
 * @throws AegisError `VALIDATION_FAILED` naming `/heartbeat_interval_ms` and the limit.
 */
export function checkDeclaredHeartbeatInterval(declaredIntervalMs: number | undefined, registryTtlMs: number): void {
  const limit = maxHeartbeatIntervalMs(registryTtlMs);
  if (declaredIntervalMs === undefined || declaredIntervalMs <= limit) return;
  const message = `must be <= ${limit} (under half of this router's registry TTL of ${registryTtlMs} ms, or the entry expires between heartbeats)`;
  throw new AegisError('VALIDATION_FAILED', `invalid registration: /heartbeat_interval_ms: ${message}`, {
    details: { fields: [{ path: '/heartbeat_interval_ms', message }] },
  });
}
