/**
 * OBS-4 per-component health: a router given the outbox's PostgreSQL (DATABASE_URL) reports it
 * in /health — degraded (not down: routing does not need it) until the outbox tables exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '@aegis-ipc/outbox';
import { createTestDatabase, type TestDatabase } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const harness = routerHarness();
let db: TestDatabase;
let router: Router;

beforeAll(async () => {
  db = await createTestDatabase();
  router = await harness.start({ outboxDatabaseUrl: db.url });
});
afterAll(async () => {
  await harness.cleanup();
  await db.drop();
});

async function health(): Promise<{ status: number; body: { status: string; components: Record<string, { status: string }> } }> {
  const res = await fetch(`${router.url}/health`);
  return { status: res.status, body: (await res.json()) as never };
}

describe('/health with the outbox database', () => {
  it('is degraded, not down, while the outbox tables are missing', async () => {
    const { status, body } = await health();
    expect(status).toBe(200);
    expect(body.components.postgresql?.status).toBe('degraded');
    expect(body.status).toBe('degraded');
    expect((await fetch(`${router.url}/health/ready`)).status).toBe(200);
  });

  it('is up once the outbox is migrated', async () => {
    const database = await openDatabase({ databaseUrl: db.url });
    await migrate(database);
    await database.close();
    await new Promise((r) => setTimeout(r, 1_100)); // past the 1 s stats cache
    const { body } = await health();
    expect(body.components.postgresql?.status).toBe('up');
    expect(body.status).toBe('up');
  });
});
