/**
 * Opens an event bus with its own connections from environment settings — for tools (the
 * `aegis events` CLI) that have no client of their own. Services use `createEventBus` with the
 * connections they already hold.
 */
import { AegisError } from '@aegis-ipc/protocol';
import { connect } from '@nats-io/transport-node';
import { createClient } from 'redis';
import type { NatsConnection } from '@nats-io/nats-core';
import type { AnyRedisClient } from '../dedupe/redis-dedupe-store.js';
import { createEventBus, type EventBus } from './event-bus.js';
import { resolveEventSettings, type EventSettings } from './event-settings.js';
import type { TransportName } from './types.js';

export interface OpenedEventBus {
  readonly bus: EventBus;
  readonly settings: EventSettings;
  /** Closes the bus, then the connections it opened. */
  close(): Promise<void>;
}

/**
 * Connects to the broker(s) named by `transports` and starts a bus on them.
 * @throws AegisError `CONNECTION_FAILED` with the URL when a broker does not answer.
 */
export async function openEventBus(
  transports: readonly TransportName[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<OpenedEventBus> {
  const settings = resolveEventSettings(env);
  let nats: NatsConnection | undefined;
  let redis: AnyRedisClient | undefined;
  try {
    if (transports.includes('nats')) {
      nats = await connect({ servers: settings.natsUrl, name: 'aegis-events', maxReconnectAttempts: 0 }).catch((err: unknown) => {
        throw new AegisError('CONNECTION_FAILED', `cannot connect to NATS at ${settings.natsUrl}: ${String(err)}`, { cause: err });
      });
    }
    if (transports.includes('redis')) {
      const client = createClient({ url: settings.redisUrl, socket: { reconnectStrategy: false } });
      client.on('error', () => undefined); // connect() below reports the failure
      await client.connect().catch((err: unknown) => {
        throw new AegisError('CONNECTION_FAILED', `cannot connect to Redis at ${settings.redisUrl}: ${String(err)}`, { cause: err });
      });
      redis = client;
    }
    const bus = await createEventBus({
      nats,
      redis,
      defaultTransport: transports[0] ?? settings.transport,
      stream: settings.stream,
      subjectPrefix: settings.subjectPrefix,
      redisKeyPrefix: settings.redisKeyPrefix,
      ackWaitMs: settings.ackWaitMs,
      claimIdleMs: settings.claimIdleMs,
      duplicateWindowMs: settings.duplicateWindowMs,
      dedupeTtlMs: settings.dedupeTtlMs,
      redisMaxLen: settings.redisMaxLen,
    });
    return {
      bus,
      settings,
      async close() {
        await bus.close();
        await nats?.close();
        await redis?.close();
      },
    };
  } catch (err) {
    await nats?.close();
    await redis?.close().catch(() => undefined);
    throw err;
  }
}
