/**
 * Every setting of the router, declared once (SPEC OBS-5). `resolveRouterSettings()` reads the
 * environment; options passed in code override it. The same declarations generate the README's
 * configuration table and `aegis config`.
 */
import { AegisError, NAMESPACE, resolveSettings, setting, type ResolvedSettings, type SettingDef } from '@aegis-ipc/protocol';
import { maxHeartbeatIntervalMs } from '../registry/registry-refresh.js';

/** `AEGIS_INSTANCE_RETENTION_MS` when unset: 10 minutes (capped at half the registry TTL). */
export const DEFAULT_INSTANCE_RETENTION_MS = 600_000;

export const ROUTER_SETTINGS = {
  namespace: setting.string('AEGIS_NAMESPACE', 'ipc', 'First token of every subject; systems with different namespaces share one NATS without seeing each other. Same value in every process of a system.'),
  natsUrl: setting.string('NATS_URL', 'nats://127.0.0.1:4222', 'NATS server(s) to connect to (comma-separated).'),
  embeddedNats: setting.oneOf('AEGIS_EMBEDDED_NATS', 'auto', ['auto', 'never'], 'When nothing answers at NATS_URL: `auto` starts `nats-server` (if on PATH) with JetStream under AEGIS_DATA_DIR/nats.'),
  dataDir: setting.string('AEGIS_DATA_DIR', './.aegis', 'Directory for embedded state (NATS JetStream store, PGlite).'),
  httpHost: setting.string('AEGIS_HTTP_HOST', '127.0.0.1', 'Interface the admin API binds to.'),
  httpPort: setting.int('AEGIS_HTTP_PORT', 8080, 'Port of the admin API, /metrics and /health (0 = any free port).', { max: 65535 }),
  adminToken: setting.optionalString('AEGIS_ADMIN_TOKEN', 'When set, every admin route requires `Authorization: Bearer <token>`.', { secret: true }),
  logLevel: setting.logLevel(),
  registryBucket: setting.string('AEGIS_REGISTRY_BUCKET', `${NAMESPACE}_registry`, 'JetStream KV bucket holding the service registry (default `<namespace>_registry`).'),
  registryTtlMs: setting.int('AEGIS_REGISTRY_TTL_MS', 3_600_000, 'Max age of a registry entry in KV (node TTL); live entries are refreshed at half of it, so heartbeat intervals must stay under half of it.', { min: 60_000 }),
  heartbeatIntervalMs: setting.int('AEGIS_HEARTBEAT_INTERVAL_MS', 1_000, 'Heartbeat interval the router asks instances to use (an instance may declare its own at registration).', { min: 100, max: 60_000 }),
  heartbeatTimeoutMs: setting.int('AEGIS_HEARTBEAT_TIMEOUT_MS', 3_000, 'An instance silent this long is marked UNHEALTHY (must exceed the interval); one that declares a longer interval gets as many missed beats (ADR 0007).', { min: 200, max: 300_000 }),
  instanceRetentionMs: setting.int(
    'AEGIS_INSTANCE_RETENTION_MS',
    DEFAULT_INSTANCE_RETENTION_MS,
    'How long an OFFLINE or UNHEALTHY instance stays listed before the router deletes its registry entry and forgets it (at most AEGIS_REGISTRY_TTL_MS; when unset, at most half of it). One still alive registers again on its next heartbeat (ADR 0008).',
    { min: 1_000 },
  ),
  historySize: setting.int('AEGIS_HISTORY_SIZE', 1_000, 'State changes kept in memory for `aegis health` and the admin API.', { min: 10, max: 1_000_000 }),
  // ── routing (issue 3, RT-2…RT-5) ─────────────────────────────────────────
  routeStrategy: setting.oneOf('AEGIS_ROUTE_STRATEGY', 'round_robin', ['round_robin', 'random', 'resource_affinity'], 'How an instance is chosen among the healthy ones.'),
  routeAttemptTimeoutMs: setting.int('AEGIS_ROUTE_ATTEMPT_TIMEOUT_MS', 5_000, 'Time one instance gets to answer before the router fails over to another.', { min: 10, max: 600_000 }),
  routeTotalTimeoutMs: setting.int('AEGIS_ROUTE_TOTAL_TIMEOUT_MS', 15_000, 'Budget of a routed call across all its attempts (a shorter caller timeout wins).', { min: 10, max: 3_600_000 }),
  routeMaxAttempts: setting.int('AEGIS_ROUTE_MAX_ATTEMPTS', 3, 'Most instances one call is tried on (timeouts and transport failures only).', { min: 1, max: 10 }),
  routeMaxHops: setting.int('AEGIS_ROUTE_MAX_HOPS', 3, 'Routed hops a call chain may take before 508 ROUTE_LOOP_DETECTED.', { min: 1, max: 100 }),
  instanceTimeoutsUnhealthy: setting.int('AEGIS_INSTANCE_TIMEOUTS_UNHEALTHY', 3, 'Timeouts (without a success in between) after which the router marks an instance UNHEALTHY.', { min: 1, max: 1_000 }),
  breakerOpenMs: setting.int('AEGIS_BREAKER_OPEN_MS', 30_000, 'How long a service\'s circuit breaker stays open before a half-open probe.', { min: 10, max: 3_600_000 }),
  fallbacks: {
    env: 'AEGIS_FALLBACKS',
    default: {},
    doc: 'JSON object {service: response}: the result returned while that service\'s breaker is open.',
    parse: parseFallbacks,
  } as SettingDef<Readonly<Record<string, unknown>>>,
  traceBufferSize: setting.int('AEGIS_TRACE_BUFFER_SIZE', 10_000, 'Recent routed calls kept for `aegis trace` (ring buffer).', { min: 10, max: 1_000_000 }),
  // ── operations surface (issue 7) ─────────────────────────────────────────
  outboxDatabaseUrl: setting.optionalString('DATABASE_URL', 'When set, the admin API (`GET /api/v1/admin/outbox/stats`) and the dashboard show the outbox backlog read from this PostgreSQL database.', {
    secret: true,
  }),
} as const;

export type RouterSettings = ResolvedSettings<typeof ROUTER_SETTINGS>;

function parseFallbacks(raw: string): Readonly<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AegisError('CONFIG_INVALID', `AEGIS_FALLBACKS=${JSON.stringify(raw.slice(0, 100))} is invalid: expected a JSON object {"service": response}`, {
      details: { env: 'AEGIS_FALLBACKS', expected: 'JSON object' },
    });
  }
  return Object.freeze({ ...(value as Record<string, unknown>) });
}

/** Options for the router: every field optional, overriding the environment. */
export type RouterOptions = Partial<RouterSettings>;

/**
 * Resolves the router settings: environment, then `options`.
 * @throws AegisError `CONFIG_INVALID` for a malformed variable or inconsistent values.
 */
export function resolveRouterSettings(options: RouterOptions = {}, env: NodeJS.ProcessEnv = process.env): RouterSettings {
  const settings = resolveSettings(ROUTER_SETTINGS, env, options);
  if (settings.namespace !== NAMESPACE) {
    // Subjects are fixed when the protocol module loads; a different value here would be ignored.
    throw new AegisError('CONFIG_INVALID', `namespace "${settings.namespace}" differs from this process's AEGIS_NAMESPACE ("${NAMESPACE}"); set AEGIS_NAMESPACE instead`, {
      details: { env: 'AEGIS_NAMESPACE' },
    });
  }
  if (settings.heartbeatTimeoutMs <= settings.heartbeatIntervalMs) {
    throw new AegisError(
      'CONFIG_INVALID',
      `AEGIS_HEARTBEAT_TIMEOUT_MS (${settings.heartbeatTimeoutMs}) must be greater than AEGIS_HEARTBEAT_INTERVAL_MS (${settings.heartbeatIntervalMs})`,
      { details: { env: 'AEGIS_HEARTBEAT_TIMEOUT_MS' } },
    );
  }
  if (settings.heartbeatIntervalMs > maxHeartbeatIntervalMs(settings.registryTtlMs)) {
    // The interval an instance gets when it declares none; refused here as a declared one is at registration.
    throw new AegisError(
      'CONFIG_INVALID',
      `AEGIS_HEARTBEAT_INTERVAL_MS (${settings.heartbeatIntervalMs}) must be under half of AEGIS_REGISTRY_TTL_MS (${settings.registryTtlMs}), or registry entries expire between heartbeats`,
      { details: { env: 'AEGIS_HEARTBEAT_INTERVAL_MS' } },
    );
  }
  checkRouteTimeouts(settings);
  const retention = resolveInstanceRetention(settings, options, env);
  if (retention !== settings.instanceRetentionMs) return Object.freeze({ ...settings, instanceRetentionMs: retention });
  return settings;
}

/**
 * The retention to use. An explicit value above the registry TTL is refused: the entry would
 * leave KV by max age first, which NATS 2.9 watchers never see (ADR 0008). The default is capped
 * at half the TTL instead, so a configuration with a short TTL that started before this setting
 * existed still starts, and the delete lands well before the entry's max age.
 * @throws AegisError `CONFIG_INVALID` for an explicit retention above `AEGIS_REGISTRY_TTL_MS`.
 */
function resolveInstanceRetention(settings: RouterSettings, options: RouterOptions, env: NodeJS.ProcessEnv): number {
  const explicit = options.instanceRetentionMs !== undefined || (env.AEGIS_INSTANCE_RETENTION_MS ?? '') !== '';
  if (!explicit) return Math.min(settings.instanceRetentionMs, Math.floor(settings.registryTtlMs / 2));
  if (settings.instanceRetentionMs > settings.registryTtlMs) {
    throw new AegisError(
      'CONFIG_INVALID',
      `AEGIS_INSTANCE_RETENTION_MS (${settings.instanceRetentionMs}) must not exceed AEGIS_REGISTRY_TTL_MS (${settings.registryTtlMs}): a dead instance's entry would leave KV by max age before the router deletes it, and the replicas' views would keep it`,
      { details: { env: 'AEGIS_INSTANCE_RETENTION_MS' } },
    );
  }
  return settings.instanceRetentionMs;
}

function checkRouteTimeouts(settings: RouterSettings): void {
  if (settings.routeAttemptTimeoutMs > settings.routeTotalTimeoutMs) {
    throw new AegisError(
      'CONFIG_INVALID',
      `AEGIS_ROUTE_ATTEMPT_TIMEOUT_MS (${settings.routeAttemptTimeoutMs}) must not exceed AEGIS_ROUTE_TOTAL_TIMEOUT_MS (${settings.routeTotalTimeoutMs})`,
      { details: { env: 'AEGIS_ROUTE_ATTEMPT_TIMEOUT_MS' } },
    );
  }
}
