/**
 * Environment settings of the event bus (SPEC OBS-5), declared once: the CLI and services resolve
 * them here, and the configuration reference is generated from the same declarations.
 */
import { resolveSettings, setting, type ResolvedSettings } from '@aegis-ipc/protocol';
import { EVENT_BUS_DEFAULTS } from './event-bus-options.js';

export const EVENT_SETTINGS = {
  natsUrl: setting.string('NATS_URL', 'nats://127.0.0.1:4222', 'NATS server(s) for the nats event transport.'),
  redisUrl: setting.string('REDIS_URL', 'redis://127.0.0.1:6379', 'Redis server for the redis event transport.'),
  transport: setting.oneOf('AEGIS_EVENTS_TRANSPORT', 'nats', ['nats', 'redis'], 'Default event transport.'),
  stream: setting.string('AEGIS_EVENTS_STREAM', EVENT_BUS_DEFAULTS.stream, 'JetStream stream of QoS 1/2 events (dead letters: <stream>_DLQ).'),
  subjectPrefix: setting.string('AEGIS_EVENTS_SUBJECT_PREFIX', EVENT_BUS_DEFAULTS.subjectPrefix, 'Subject root of events.'),
  redisKeyPrefix: setting.string('AEGIS_EVENTS_REDIS_PREFIX', EVENT_BUS_DEFAULTS.redisKeyPrefix, 'Prefix of the Redis event keys.'),
  ackWaitMs: setting.int('AEGIS_EVENTS_ACK_WAIT_MS', EVENT_BUS_DEFAULTS.ackWaitMs, 'Redelivery delay of a crashed subscriber (JetStream ack_wait).', { min: 100 }),
  claimIdleMs: setting.int('AEGIS_EVENTS_CLAIM_IDLE_MS', EVENT_BUS_DEFAULTS.claimIdleMs, 'Idle time before a dead Redis consumer’s entries are reclaimed.', { min: 100 }),
  duplicateWindowMs: setting.int('AEGIS_EVENTS_DUPLICATE_WINDOW_MS', EVENT_BUS_DEFAULTS.duplicateWindowMs, 'Publish-side QoS 2 dedupe window.', { min: 1000 }),
  dedupeTtlMs: setting.int('AEGIS_EVENTS_DEDUPE_TTL_MS', EVENT_BUS_DEFAULTS.dedupeTtlMs, 'How long consumers remember processed QoS 2 ids.', { min: 1000 }),
  redisMaxLen: setting.int('AEGIS_EVENTS_REDIS_MAXLEN', EVENT_BUS_DEFAULTS.redisMaxLen, 'XADD MAXLEN ~ of a Redis topic stream.', { min: 1 }),
} as const;

export type EventSettings = ResolvedSettings<typeof EVENT_SETTINGS>;

/** @throws AegisError `CONFIG_INVALID` naming the variable. */
export function resolveEventSettings(env: Readonly<Record<string, string | undefined>> = process.env): EventSettings {
  return resolveSettings(EVENT_SETTINGS, env);
}
