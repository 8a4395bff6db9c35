/** NATS helpers for tests: a connection, and cleanup of the streams and buckets a test made. */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { TEST_NATS_URL } from './services.js';

/** Connects to the test NATS server. */
export function connectTestNats(name = 'aegis-test'): Promise<NatsConnection> {
  return connect({ servers: TEST_NATS_URL, name });
}

/** Deletes streams (KV buckets are streams named `KV_<bucket>`); missing ones are ignored. */
export async function deleteStreams(nc: NatsConnection, names: readonly string[]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const name of names) {
    try {
      await jsm.streams.delete(name);
    } catch {
      // already gone
    }
  }
}

/** Deletes KV buckets by bucket name. */
export function deleteBuckets(nc: NatsConnection, buckets: readonly string[]): Promise<void> {
  return deleteStreams(nc, buckets.map((b) => `KV_${b}`));
}
