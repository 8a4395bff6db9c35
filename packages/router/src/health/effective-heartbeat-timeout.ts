/**
 * How long a router waits for an instance's heartbeat before calling it UNHEALTHY (ADR 0007).
 *
 * An instance may declare its own heartbeat interval at registration. Judging it by the router's
 * single timeout would flap an instance that declares a longer interval (ONLINE → UNHEALTHY →
 * ONLINE on every beat), so each instance gets the number of missed beats the router's own
 * settings allow (3 with the defaults: 1 s interval, 3 s timeout), never less than the router's
 * timeout.
 */

/** The router's own heartbeat settings (`AEGIS_HEARTBEAT_INTERVAL_MS`, `AEGIS_HEARTBEAT_TIMEOUT_MS`). */
export interface HeartbeatSettings {
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
}

/**
 * `max(routerTimeout, ceil(declaredInterval × routerTimeout / routerInterval))`. An instance that
 * declares nothing, or the router's interval (or a shorter one), gets exactly the router's timeout.
 * @example
 * effectiveHeartbeatTimeout(10_000, { heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 3_000 }); // 30_000
 */
export function effectiveHeartbeatTimeout(declaredIntervalMs: number | undefined, router: HeartbeatSettings): number {
  if (declaredIntervalMs === undefined) return router.heartbeatTimeoutMs;
  const sameMissedBeats = Math.ceil((declaredIntervalMs * router.heartbeatTimeoutMs) / router.heartbeatIntervalMs);
  return Math.max(router.heartbeatTimeoutMs, sameMissedBeats);
}
