/**
 * A relay (or `aegis outbox`) pointed at a database or broker that does not answer stops at once
 * with a typed error that names it — never a bare `ECONNREFUSED` as INTERNAL, never a password,
 * and never a silent wait: node-redis retries a first connection forever unless told otherwise.
 * Nothing listens on port 9 of 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AegisError } from '@aegis-ipc/protocol';
import { createTestDatabase, type TestDatabase } from '@aegis-ipc/testing';
import { openOutboxDatabase, resolveOutboxSettings, startRelayProcess } from '../../src/index.js';

const DOWN = '127.0.0.1:9';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('aegis_relay_start');
});
afterAll(async () => {
  await database.drop();
});

async function failureOf(promise: Promise<unknown>): Promise<AegisError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AegisError) return err;
    throw new Error(`not an AegisError: ${String(err)}`, { cause: err });
  }
  throw new Error('did not fail');
}

function settings(env: Record<string, string>) {
  return resolveOutboxSettings({ RELAY_METRICS_PORT: '0', ...env });
}

describe('relay start-up failures', () => {
  it('an unreachable PostgreSQL is STORAGE_FAILURE naming the URL without its password', async () => {
    const err = await failureOf(startRelayProcess(settings({ DATABASE_URL: `postgres://postgres:hunter2@${DOWN}/outbox` })));
    expect(err.code).toBe('STORAGE_FAILURE');
    expect(err.message).toContain(`PostgreSQL at postgres://postgres:***@${DOWN}/outbox (DATABASE_URL)`);
    expect(JSON.stringify(err.toWire())).not.toContain('hunter2');
  });

  it('a missing database is STORAGE_FAILURE with the server’s reason (aegis outbox opens it the same way)', async () => {
    const url = new URL(database.url);
    url.pathname = `/${database.name}_missing`;
    const err = await failureOf(openOutboxDatabase(settings({ DATABASE_URL: url.toString() })));
    expect(err.code).toBe('STORAGE_FAILURE');
    expect(err.message).toMatch(/does not exist/);
  });

  it('an unreachable NATS is CONNECTION_FAILED naming the URL', async () => {
    const err = await failureOf(startRelayProcess(settings({ DATABASE_URL: database.url, NATS_URL: `nats://${DOWN}` })));
    expect(err.code).toBe('CONNECTION_FAILED');
    expect(err.message).toContain(`cannot connect to NATS at nats://${DOWN}`);
  });

  it('an unreachable Redis is CONNECTION_FAILED at once instead of a silent endless retry', async () => {
    const started = Date.now();
    const err = await failureOf(startRelayProcess(settings({ DATABASE_URL: database.url, RELAY_SINK: 'redis', REDIS_URL: `redis://:hunter2@${DOWN}` })));
    expect(err.code).toBe('CONNECTION_FAILED');
    expect(err.message).toContain(`cannot connect to Redis at redis://:***@${DOWN}`);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
