/** Redis helpers for tests: a client, and deletion of the keys a test made. */
import { createClient } from 'redis';
import { TEST_REDIS_URL } from './services.js';

function newClient() {
  return createClient({ url: TEST_REDIS_URL });
}

export type TestRedis = ReturnType<typeof newClient>;

export async function connectTestRedis(): Promise<TestRedis> {
  const client = newClient();
  await client.connect();
  return client;
}

/** Deletes every key starting with `prefix` (tests prefix all their keys with a unique name). */
export async function deleteKeysWithPrefix(client: TestRedis, prefix: string): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    if (keys.length > 0) await client.del(keys);
  }
}
