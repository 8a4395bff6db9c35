/**
 * `aegis relay` as users run it: configured by the environment, it publishes what the writer
 * stored, exports its spans when OTEL_TRACES_EXPORTER asks for it (here: console) under the trace
 * the row was written in, and drains and exits 0 on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { OutboxWriter, PgDatabase, migrate } from '@aegis-ipc/outbox';
import { TEST_NATS_URL, connectTestNats, createTestDatabase, deleteStreams, uniqueName, waitFor, type TestDatabase } from '@aegis-ipc/testing';

const bin = fileURLToPath(new URL('../bin/aegis.js', import.meta.url));
const TRACE_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00';

let testDb: TestDatabase;
let db: PgDatabase;
let nc: NatsConnection;
const topic = uniqueName('relaycli').replaceAll('_', '-');
const stream = uniqueName('RELAYCLI');

beforeAll(async () => {
  testDb = await createTestDatabase('aegis_relay_cli');
  db = new PgDatabase({ connectionString: testDb.url, applicationName: 'aegis-relay-cli-test' });
  await migrate(db);
  nc = await connectTestNats('relay-cli-test');
});
afterAll(async () => {
  await db.close();
  await deleteStreams(nc, [stream]);
  await nc.close();
  await testDb.drop();
});

describe('aegis relay', () => {
  it('publishes the outbox, exports its spans under the stored trace, and exits 0 on SIGTERM', async () => {
    const writer = new OutboxWriter(db, { topic });
    await writer.submitCommand(
      {
        aggregateType: 'TEST_SESSION',
        sessionId: crypto.randomUUID(),
        commandType: 'ConfirmStage',
        payload: {},
        correlationId: 'corr-relay-cli',
        causationId: 'req-relay-cli',
        trace: { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
      },
      () => ({ outcome: 'completed', events: [{ eventType: 'Test.Session.StageConfirmed', payload: {} }] }),
    );
    const child = spawn(process.execPath, [bin, 'relay', '--poll-interval', '0.2'], {
      env: {
        ...process.env,
        DATABASE_URL: testDb.url,
        NATS_URL: TEST_NATS_URL,
        OUTBOX_TOPIC: topic,
        RELAY_NATS_STREAM: stream,
        RELAY_METRICS_PORT: '0',
        OTEL_TRACES_EXPORTER: 'console',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const jsm = await jetstreamManager(nc);
      await waitFor(async () => (await jsm.streams.info(stream).catch(() => undefined))?.state.messages === 1, { timeoutMs: 30_000, what: 'the relay to publish the event' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    // The console exporter prints each span; the relay's publish span is in the stored trace.
    expect(stdout).toContain("name: 'ipc.outbox.relay_publish'");
    expect(stdout).toContain(`traceId: '${TRACE_ID}'`);
  });
});
