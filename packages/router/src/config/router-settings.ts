/**
 * Every setting of the router, declared once (SPEC OBS-5). `resolveRouterSettings()` reads the
 * environment; options passed in code override it. The same declarations generate the README's
 * configuration table and `aegis config`.
 */
import { AegisError, resolveSettings, setting, type ResolvedSettings } from '@aegis-ipc/protocol';

export const ROUTER_SETTINGS = {
  natsUrl: setting.string('NATS_URL', 'nats://127.0.0.1:4222', 'NATS server(s) to connect to (comma-separated).'),
  embeddedNats: setting.oneOf('AEGIS_EMBEDDED_NATS', 'auto', ['auto', 'never'], 'When nothing answers at NATS_URL: `auto` starts `nats-server` (if on PATH) with JetStream under AEGIS_DATA_DIR/nats.'),
  dataDir: setting.string('AEGIS_DATA_DIR', './.aegis', 'Directory for embedded state (NATS JetStream store, PGlite).'),
  httpHost: setting.string('AEGIS_HTTP_HOST', '127.0.0.1', 'Interface the admin API binds to.'),
  httpPort: setting.int('AEGIS_HTTP_PORT', 8080, 'Port of the admin API, /metrics and /health (0 = any free port).', { max: 65535 }),
  adminToken: setting.optionalString('AEGIS_ADMIN_TOKEN', 'When set, every admin route requires `Authorization: Bearer <token>`.', { secret: true }),
  logLevel: setting.oneOf('AEGIS_LOG_LEVEL', 'info', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'Log level of the JSON logs.'),
  registryBucket: setting.string('AEGIS_REGISTRY_BUCKET', 'ipc_registry', 'JetStream KV bucket holding the service registry.'),
  registryTtlMs: setting.int('AEGIS_REGISTRY_TTL_MS', 3_600_000, 'Max age of a registry entry in KV (node TTL); live entries are refreshed at half of it.', { min: 60_000 }),
  heartbeatIntervalMs: setting.int('AEGIS_HEARTBEAT_INTERVAL_MS', 1_000, 'Heartbeat interval the router asks instances to use.', { min: 100, max: 60_000 }),
  heartbeatTimeoutMs: setting.int('AEGIS_HEARTBEAT_TIMEOUT_MS', 3_000, 'An instance silent this long is marked UNHEALTHY (must exceed the interval).', { min: 200, max: 300_000 }),
  historySize: setting.int('AEGIS_HISTORY_SIZE', 1_000, 'State changes kept in memory for `aegis health` and the admin API.', { min: 10, max: 1_000_000 }),
} as const;

export type RouterSettings = ResolvedSettings<typeof ROUTER_SETTINGS>;

/** Options for the router: every field optional, overriding the environment. */
export type RouterOptions = Partial<RouterSettings>;

/**
 * Resolves the router settings: environment, then `options`.
 * @throws AegisError `CONFIG_INVALID` for a malformed variable or inconsistent values.
 */
export function resolveRouterSettings(options: RouterOptions = {}, env: NodeJS.ProcessEnv = process.env): RouterSettings {
  const settings = resolveSettings(ROUTER_SETTINGS, env, options);
  if (settings.heartbeatTimeoutMs <= settings.heartbeatIntervalMs) {
    throw new AegisError(
      'CONFIG_INVALID',
      `AEGIS_HEARTBEAT_TIMEOUT_MS (${settings.heartbeatTimeoutMs}) must be greater than AEGIS_HEARTBEAT_INTERVAL_MS (${settings.heartbeatIntervalMs})`,
      { details: { env: 'AEGIS_HEARTBEAT_TIMEOUT_MS' } },
    );
  }
  return settings;
}
