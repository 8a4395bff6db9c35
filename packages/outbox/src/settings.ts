/**
 * Environment settings of the outbox and relay (SPEC OBS-5), declared once. `OUTBOX_SETTINGS` is
 * exported so the configuration reference can be generated from it.
 */
import { AegisError, setting, type SettingDef } from '@aegis-ipc/protocol';
import { ISOLATION_LEVELS, type IsolationLevel } from './db/database.js';

/** A duration given in (possibly fractional) seconds, as the seeds' `RELAY_POLL_INTERVAL=5`. */
function seconds(env: string, def: number, doc: string): SettingDef<number> {
  return {
    env,
    default: def,
    doc: `${doc} In seconds (fractions allowed).`,
    parse(raw) {
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0 || n > 3600) {
        throw new AegisError('CONFIG_INVALID', `${env}=${JSON.stringify(raw)} is invalid: expected seconds in (0, 3600]`, {
          details: { env, value: raw, expected: 'seconds in (0, 3600]' },
        });
      }
      return n;
    },
  };
}

export const OUTBOX_SETTINGS = {
  databaseUrl: setting.optionalString('DATABASE_URL', 'PostgreSQL URL of the outbox tables. Unset: embedded PGlite under AEGIS_PG_DIR (one process only).', {
    secret: true,
  }),
  pgliteDir: setting.string('AEGIS_PG_DIR', './.aegis/pg', 'Data directory of the embedded PGlite database used when DATABASE_URL is unset.'),
  poolSize: setting.int('DATABASE_POOL_SIZE', 10, 'PostgreSQL connections per process (writer and relay).', { min: 1, max: 1000 }),
  isolation: setting.oneOf<IsolationLevel>(
    'OUTBOX_ISOLATION',
    'REPEATABLE_READ',
    Object.keys(ISOLATION_LEVELS) as IsolationLevel[],
    'Isolation level of command transactions.',
  ),
  topic: setting.string('OUTBOX_TOPIC', 'domain-events', 'Topic written on outbox rows; the NATS subject is <topic>.<aggregate id>.'),
  natsUrl: setting.string('NATS_URL', 'nats://127.0.0.1:4222', 'NATS server the relay publishes to.'),
  pollInterval: seconds('RELAY_POLL_INTERVAL', 5, 'Fallback poll of the relay when no NOTIFY wakes it.'),
  batchSize: setting.int('RELAY_BATCH_SIZE', 100, 'Outbox rows (one per aggregate) the relay claims per transaction.', { min: 1, max: 10_000 }),
  sink: setting.oneOf('RELAY_SINK', 'nats', ['nats', 'redis'] as const, 'Broker the relay publishes to.'),
  stream: setting.string('RELAY_NATS_STREAM', 'AEGIS_DOMAIN_EVENTS', 'JetStream stream created (when missing) to capture <topic>.>.'),
  publishTimeoutMs: setting.int('RELAY_PUBLISH_TIMEOUT_MS', 5_000, 'How long the relay waits for the broker to ack one publish.', { min: 100, max: 120_000 }),
  redisUrl: setting.string('REDIS_URL', 'redis://127.0.0.1:6379', 'Redis for RELAY_SINK=redis (stream key aegis:<topic>).'),
  metricsHost: setting.string('RELAY_METRICS_HOST', '127.0.0.1', 'Address of the relay /metrics and /health endpoint.'),
  metricsPort: setting.int('RELAY_METRICS_PORT', 9465, 'Port of the relay /metrics and /health endpoint; 0 disables it.', { max: 65_535 }),
  logLevel: setting.logLevel(),
} as const;

export type OutboxSettings = {
  readonly [K in keyof typeof OUTBOX_SETTINGS]: (typeof OUTBOX_SETTINGS)[K] extends SettingDef<infer T> ? T : never;
};
