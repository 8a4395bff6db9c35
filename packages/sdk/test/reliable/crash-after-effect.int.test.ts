/**
 * An instance SIGKILLed after its side effect and before its ACK (test hook
 * AEGIS_TEST_CRASH_AFTER_EFFECT). The broker redelivers after ack_wait to a fresh instance:
 * - PostgreSQL inbox: the effect and the inbox row committed together → exactly one effect row;
 * - KV dedupe (separate store or the status record): the completion record was never written →
 *   the handler runs again, TWO effect rows (the documented limit of strength 1, docs/guarantees.md).
 * Either way the caller gets one response and the message ends ACKNOWLEDGED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { newMessageId } from '@aegis-ipc/protocol';
import { createTestDatabase, spawnTs, type SpawnedProcess, type TestDatabase } from '@aegis-ipc/testing';
import { MessageStatusStore, type AegisClient } from '@aegis-ipc/sdk';
import { startSystem, type System } from './helpers.js';

const WORKER = fileURLToPath(new URL('./fixtures/reliable-worker.ts', import.meta.url));
let system: System;
let db: TestDatabase;
let pool: pg.Pool;
let caller: AegisClient;
const children: SpawnedProcess[] = [];

beforeAll(async () => {
  system = await startSystem();
  db = await createTestDatabase('aegis_eo_crash');
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  await pool.query('CREATE TABLE effects (id bigserial PRIMARY KEY, message_id text NOT NULL, instance_id text NOT NULL)');
  caller = await system.client();
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await pool.end();
  await system.cleanup();
  await db.drop();
});

function worker(mode: 'inbox' | 'kv' | 'status', service: string, instance: string, crash: boolean): SpawnedProcess {
  const child = spawnTs(WORKER, [], {
    WORKER_MODE: mode,
    WORKER_SERVICE: service,
    WORKER_INSTANCE: instance,
    WORKER_DEDUPE_BUCKET: system.dedupeBucket,
    DATABASE_URL: db.url,
    AEGIS_TEST_CRASH_AFTER_EFFECT: crash ? '1' : '',
  });
  children.push(child);
  return child;
}

async function effectRows(messageId: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM effects WHERE message_id = $1', [messageId]);
  return Number(rows[0]?.n);
}

describe.each([
  { mode: 'inbox' as const, expectedRows: 1 },
  { mode: 'kv' as const, expectedRows: 2 },
  { mode: 'status' as const, expectedRows: 2 },
])('SIGKILL after the side effect, before the ACK ($mode)', ({ mode, expectedRows }) => {
  it(`ends ACKNOWLEDGED with ${expectedRows} effect row(s)`, async () => {
    const service = `crash-${mode}`;
    const doomed = worker(mode, service, `${mode}-doomed`, true);
    await doomed.waitForLine(/^ready$/, 30_000);
    // statusRecord mode: an SDK-generated id, so the doomed first delivery is the unclaimed one.
    const chosenId = mode === 'status' ? undefined : newMessageId();
    const call = caller.callReliable<{ n: number; by: string }>(service, 'effect', { n: 7 }, { messageId: chosenId, ackTimeoutMs: 1_000, maxRetries: 5 });
    const code = await doomed.exited; // killed itself after the effect
    expect(code).toBeNull();
    const { rows: doomedRows } = await pool.query<{ message_id: string }>('SELECT message_id FROM effects WHERE instance_id = $1', [`${mode}-doomed`]);
    const messageId = chosenId ?? doomedRows[0]!.message_id;
    expect(await effectRows(messageId)).toBe(1);
    const survivor = worker(mode, service, `${mode}-survivor`, false);
    await survivor.waitForLine(/^ready$/, 30_000);
    const res = await call;
    expect(res.n).toBe(7);
    expect(await effectRows(messageId)).toBe(expectedRows);
    const status = await (await MessageStatusStore.bind(caller.nc)).get(messageId);
    expect(status?.state).toBe('ACKNOWLEDGED');
    expect(status?.retry_count).toBeGreaterThanOrEqual(1);
    survivor.kill('SIGTERM');
    await survivor.exited;
  });
});
