/**
 * Everything `aegis relay` does, as a function: open the database (PGlite or PostgreSQL), migrate,
 * connect the sink, start the relay and its /metrics endpoint. Returns a handle whose `close()`
 * drains the relay and then releases sink and database in that order.
 */
import type { Logger } from 'pino';
import { resolveSettings } from '@aegis-ipc/protocol';
import { openOutboxDatabase } from '../db/open-outbox-database.js';
import type { Database } from '../db/database.js';
import { OUTBOX_SETTINGS, type OutboxSettings } from '../settings.js';
import type { OutboxSink } from '../sinks/outbox-sink.js';
import { NatsJetStreamSink } from '../sinks/nats-jetstream-sink.js';
import { RedisStreamsSink } from '../sinks/redis-streams-sink.js';
import { OutboxRelay } from './outbox-relay.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';

export interface RelayProcess {
  readonly relay: OutboxRelay;
  readonly db: Database;
  readonly sink: OutboxSink;
  /** Port of /metrics, undefined when disabled or the port was taken. */
  readonly metricsPort: number | undefined;
  close(): Promise<void>;
}

/** Resolves {@link OUTBOX_SETTINGS} from `env`. @throws AegisError `CONFIG_INVALID` */
export function resolveOutboxSettings(env: Readonly<Record<string, string | undefined>> = process.env): OutboxSettings {
  return resolveSettings(OUTBOX_SETTINGS, env);
}

/**
 * @throws AegisError `STORAGE_FAILURE` naming the database, `CONNECTION_FAILED` naming the broker,
 *   when either cannot be reached at start
 */
export async function startRelayProcess(settings: OutboxSettings, opts: { logger?: Logger; relayId?: string } = {}): Promise<RelayProcess> {
  const log = opts.logger;
  const relayId = opts.relayId ?? `relay-${process.pid}`;
  const db = await openOutboxDatabase(settings, { applicationName: `aegis-relay:${relayId}`, logger: log });
  let sink: OutboxSink | undefined;
  try {
    sink =
      settings.sink === 'redis'
        ? await RedisStreamsSink.create({ url: settings.redisUrl })
        : await NatsJetStreamSink.create({
            servers: settings.natsUrl,
            stream: settings.stream,
            topics: [settings.topic],
            publishTimeoutMs: settings.publishTimeoutMs,
            name: `aegis-relay:${relayId}`,
          });
    const relay = new OutboxRelay(db, sink, {
      pollIntervalMs: Math.round(settings.pollInterval * 1000),
      batchSize: settings.batchSize,
      relayId,
      logger: log,
    });
    await relay.start();
    let metrics: MetricsServer | undefined;
    if (settings.metricsPort !== 0) {
      try {
        metrics = await startMetricsServer(relay.metrics.registry, settings.metricsHost, settings.metricsPort, () => relay.isRunning);
      } catch (err) {
        // A second relay on the same host: keep relaying, say why metrics are missing.
        log?.warn({ err, port: settings.metricsPort }, 'relay metrics endpoint not started');
      }
    }
    const usedSink = sink;
    log?.info({ event: 'relay_started', relay_id: relayId, sink: usedSink.name, storage: db.kind, metrics_port: metrics?.port }, 'relay started');
    return {
      relay,
      db,
      sink: usedSink,
      metricsPort: metrics?.port,
      async close() {
        await relay.close();
        await metrics?.close();
        await usedSink.close();
        await db.close();
      },
    };
  } catch (err) {
    await sink?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw err;
  }
}
