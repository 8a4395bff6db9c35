/**
 * The embedded defaults of `aegis demo`, defined once. They are chosen so the whole story —
 * steady round robin, a killed instance, failover, recovery — fits in about 25 seconds and shows
 * the failure being detected quickly; they are demo values, not production advice.
 */
export const DEMO_SETTINGS = {
  /** Echo instances started as child processes. */
  instances: 3,
  /** The service name the instances register under. */
  serviceName: 'demo-echo',
  /** Heartbeat interval the router asks instances to use (ms). */
  heartbeatIntervalMs: 300,
  /** Silence after which the router marks an instance UNHEALTHY (ms): short so failover shows quickly. */
  heartbeatTimeoutMs: 1_500,
  /**
   * Time one instance gets before the router fails over (ms): a call caught on the killed
   * instance is answered by another one after this, well within the call timeout.
   */
  routeAttemptTimeoutMs: 1_000,
  /**
   * How long the router quarantines an instance that stopped answering, and a service breaker
   * stays open (ms): short so the restarted instance rejoins within the demo.
   */
  breakerOpenMs: 2_000,
  /** Admin API port when free; otherwise any free port. */
  preferredHttpPort: 8080,
  /** Concurrent callers in the caller loop. */
  callers: 4,
  /** Pause between two calls of one caller (ms): ~100 calls/s in total, light on a shared machine. */
  callPauseMs: 40,
  /** Per-call timeout (ms): room for a failover after a full attempt timeout. */
  callTimeoutMs: 10_000,
  /** How often the live distribution is printed (ms). */
  tickMs: 1_000,
  /** Seconds of steady traffic before the kill, after the kill, and after the recovery. */
  steadyS: 4,
  afterKillS: 4,
  afterRecoveryS: 3,
  /**
   * Give up waiting for an echo process to start after this long (ms). Generous: each one
   * loads TypeScript through tsx, which takes seconds on a busy machine.
   */
  startLimitMs: 60_000,
  /** Give up waiting for detection, registration or recovery after this long (ms). */
  waitLimitMs: 20_000,
  /** The demo's own promise (SPEC RT-3): failure detected in under this (ms). */
  detectionBoundMs: 5_000,
} as const;

export type DemoSettings = typeof DEMO_SETTINGS;
