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

export async function createTestDatabase(prefix = 'aegis_test'): Promise<TestDatabase> {
  const name = uniqueName(prefix).toLowerCase();
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
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
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
