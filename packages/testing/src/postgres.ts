/** A fresh PostgreSQL database per test file, dropped afterwards (graphile-worker style). */
import pg from 'pg';
import { TEST_DATABASE_URL } from './services.js';
import { uniqueName } from './unique-name.js';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops the database, terminating leftover connections first. */
  drop(): Promise<void>;
}

/**
 * A short-lived admin connection. Its 'error' listener keeps a backend terminated under it (a
 * test that kills connections, a server restart) from becoming an uncaught exception in the test
 * process; the statement in flight fails on its own.
 */
function adminClient(): pg.Client {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  client.on('error', () => undefined);
  return client;
}

export async function createTestDatabase(prefix = 'aegis_test'): Promise<TestDatabase> {
  const name = uniqueName(prefix).toLowerCase();
  const admin = adminClient();
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = adminClient();
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
