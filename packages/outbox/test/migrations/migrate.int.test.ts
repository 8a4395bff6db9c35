import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@aegis-ipc/testing';
import { PgDatabase, loadMigrations, migrate } from '../../src/index.js';

describe('migrate', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase('aegis_outbox_mig');
  });
  afterAll(async () => {
    await testDb.drop();
  });

  it('is safe when 8 processes start at once: each migration is applied exactly once', async () => {
    const dbs = Array.from({ length: 8 }, () => new PgDatabase({ connectionString: testDb.url, poolSize: 1 }));
    try {
      const applied = await Promise.all(dbs.map((db) => migrate(db)));
      const all = applied.flat();
      expect(all.sort()).toEqual(loadMigrations().map((m) => m.version));
      expect(applied.filter((a) => a.length > 0)).toHaveLength(1);
      const rows = await dbs[0]!.query<{ version: number }>('SELECT version FROM aegis_outbox_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
      const tables = await dbs[0]!.query<{ t: string }>(
        "SELECT table_name t FROM information_schema.tables WHERE table_name IN ('command_inbox','domain_events','event_outbox') ORDER BY 1",
      );
      expect(tables.map((t) => t.t)).toEqual(['command_inbox', 'domain_events', 'event_outbox']);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });

  it('migrations are numbered, contiguous from 000001', () => {
    const versions = loadMigrations().map((m) => m.version);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  });
});
