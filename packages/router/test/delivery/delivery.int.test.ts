/**
 * The router side of exactly-once calls: status on `ipc.message.status` and the admin API, dead
 * letters and replay over HTTP; a caller SIGKILLed mid-call (the message is still processed and
 * its status and response can be fetched by id); a router restarted during load (nothing lost —
 * the reliable data path does not go through the router).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { AegisError, NAMESPACE, SUBJECTS, newMessageId } from '@aegis-ipc/protocol';
import { TEST_NATS_URL, connectTestNats, deleteBuckets, deleteStreams, spawnTs, waitFor } from '@aegis-ipc/testing';
import {
  KvDedupeStore,
  MESSAGE_STATUS_BUCKET,
  RELIABLE_DLQ_STREAM,
  RELIABLE_STREAM,
  ReliableReceiver,
  connect,
  requestReply,
  type AegisClient,
  type MessageStatus,
} from '@aegis-ipc/sdk';
import { pino } from 'pino';
import { routerHarness } from '../router-harness.js';
import type { Router } from '@aegis-ipc/router';

const CLI = fileURLToPath(new URL('../../../cli/src/main.ts', import.meta.url));
const CALLER = fileURLToPath(new URL('./fixtures/reliable-caller.ts', import.meta.url));
const silent = pino({ level: 'silent' });
const harness = routerHarness();
const dedupeBucket = `dd_${Date.now()}`;
let router: Router;
let server: AegisClient;
let caller: AegisClient;
const receivers: ReliableReceiver[] = [];
let slowDelayMs = 1_500;

beforeAll(async () => {
  router = await harness.start();
  server = await connect({ servers: TEST_NATS_URL, logger: silent });
  caller = await connect({ servers: TEST_NATS_URL, logger: silent });
  const store = await KvDedupeStore.open(server.nc, { bucket: dedupeBucket });
  const options = { idempotency: { store }, ackTimeoutMs: 2_000, maxRetries: 1, backoffInitialMs: 100, backoffMaxMs: 100, logger: silent };
  const calc = await server.register('calc', 'calc-1');
  calc.handle('double', ({ n }) => ({ n: Number(n) * 2 })).handle('reject', () => {
    throw new AegisError('STORAGE_FAILURE', 'database down');
  });
  receivers.push(await ReliableReceiver.start(calc, options));
  const slow = await server.register('slow', 'slow-1');
  slow.handle('work', async ({ n }) => {
    await new Promise((r) => setTimeout(r, slowDelayMs));
    return { done: n };
  });
  receivers.push(await ReliableReceiver.start(slow, { ...options, ackTimeoutMs: 10_000 }));
  // Every acknowledgement of this service is lost, the spare delivery's too: only the router's
  // MAX_DELIVERIES watcher can take the request out of the stream.
  const black = await server.register('blackhole', 'blackhole-1');
  black.handle('eat', () => ({ eaten: true }));
  receivers.push(await ReliableReceiver.start(black, { ...options, ackTimeoutMs: 1_000, maxRetries: 1, beforeAck: () => 'drop' }));
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await server.close();
  await caller.close();
  await harness.cleanup();
  const nc = await connectTestNats();
  await deleteStreams(nc, [RELIABLE_STREAM, RELIABLE_DLQ_STREAM]);
  await deleteBuckets(nc, [dedupeBucket, MESSAGE_STATUS_BUCKET]);
  await nc.close();
});

async function admin<T>(path: string, method = 'GET'): Promise<{ status: number; body: T }> {
  const res = await fetch(`${router.url}/api/v1/admin${path}`, { method });
  return { status: res.status, body: (await res.json()) as T };
}

describe('message status', () => {
  it('is served on ipc.message.status and GET /api/v1/admin/messages/{id}', async () => {
    const messageId = newMessageId();
    expect(await caller.callReliable('calc', 'double', { n: 21 }, { messageId })).toEqual({ n: 42 });
    const viaNats = (await requestReply<{ message_status: MessageStatus }>(caller.nc, SUBJECTS.messageStatus, { message_id: messageId }, { timeoutMs: 5_000 })).message_status;
    expect(viaNats).toMatchObject({ message_id: messageId, state: 'ACKNOWLEDGED', retry_count: 0, service_name: 'calc', method: 'double', response: { n: 42 } });
    const viaHttp = await admin<MessageStatus>(`/messages/${messageId}`);
    expect(viaHttp.status).toBe(200);
    expect(viaHttp.body).toMatchObject({ state: 'ACKNOWLEDGED', trace_id: viaNats.trace_id, created_at: viaNats.created_at });
  });

  it('aegis messages status <id> --json and aegis messages dlq read the same status', async () => {
    const messageId = newMessageId();
    await caller.callReliable('calc', 'double', { n: 1 }, { messageId });
    const cli = spawnTs(CLI, ['messages', 'status', messageId, '--json'], { AEGIS_ADMIN_URL: router.url });
    expect(await cli.exited).toBe(0);
    expect(JSON.parse(cli.lines.join('\n'))).toMatchObject({ message_id: messageId, state: 'ACKNOWLEDGED', response: { n: 2 } });
    const table = spawnTs(CLI, ['messages', 'status', messageId], { AEGIS_ADMIN_URL: router.url });
    expect(await table.exited).toBe(0);
    expect(table.lines.join('\n')).toMatch(/state\s+ACKNOWLEDGED/);
  }, 90_000);

  it('an unknown id is MESSAGE_NOT_FOUND (404)', async () => {
    const err = await requestReply(caller.nc, SUBJECTS.messageStatus, { message_id: newMessageId() }, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect((err as AegisError).code).toBe('MESSAGE_NOT_FOUND');
    const res = await admin<{ code: string }>(`/messages/${newMessageId()}`);
    expect(res.status).toBe(404);
  });

  it('dead letters are listed and replayed over HTTP', async () => {
    const messageId = newMessageId();
    const err = await caller.callReliable('calc', 'reject', {}, { messageId }).catch((e: unknown) => e);
    expect((err as AegisError).code).toBe('STORAGE_FAILURE');
    const dlq = await admin<{ dead_letters: Array<{ message_id: string; last_error: string; deliveries: number }> }>('/messages/dlq');
    const letter = dlq.body.dead_letters.find((d) => d.message_id === messageId);
    expect(letter?.last_error).toContain('database down');
    expect(letter?.deliveries).toBe(2);
    const replay = await admin<MessageStatus>(`/messages/${messageId}/replay`, 'POST');
    expect(replay.status).toBe(200);
    expect(replay.body.replays).toBe(1);
    // The handler still fails: the replay runs it again and it ends FAILED again, replays counted.
    await waitFor(async () => (await admin<MessageStatus>(`/messages/${messageId}`)).body.state === 'FAILED', { timeoutMs: 30_000 });
    const again = await admin<MessageStatus>(`/messages/${messageId}`);
    expect(again.body.replays).toBe(1);
    const cli = spawnTs(CLI, ['messages', 'dlq', '--json'], { AEGIS_ADMIN_URL: router.url });
    expect(await cli.exited).toBe(0);
    expect(JSON.stringify(JSON.parse(cli.lines.join('\n')))).toContain(messageId);
    const notFailed = await admin<{ code: string }>(`/messages/${newMessageId()}/replay`, 'POST');
    expect(notFailed.status).toBe(404);
  });
});

describe('failures around the call', () => {
  it('every broker ack lost: the caller is answered from the status and the spare delivery does not turn it FAILED', async () => {
    const messageId = newMessageId();
    expect(await caller.callReliable('blackhole', 'eat', {}, { messageId, ackTimeoutMs: 1_000, maxRetries: 1, timeoutMs: 30_000 })).toEqual({ eaten: true });
    const nc = await connectTestNats();
    try {
      const jsm = await jetstreamManager(nc);
      // Deliveries 1-2 are dropped by the test seam; the spare (3rd) sees ACKNOWLEDGED and acks.
      await waitFor(async () => (await jsm.streams.info(RELIABLE_STREAM, { subjects_filter: `${NAMESPACE}.reliable.blackhole.>` })).state.messages === 0, { timeoutMs: 30_000, what: 'request acked by the spare delivery' });
    } finally {
      await nc.close();
    }
    expect((await admin<MessageStatus>(`/messages/${messageId}`)).body.state).toBe('ACKNOWLEDGED');
  }, 60_000);

  it('a caller SIGKILLed mid-call: the message is still processed; status and response are fetchable by id', async () => {
    slowDelayMs = 1_500;
    const messageId = newMessageId();
    const child = spawnTs(CALLER, [], { CALL_MESSAGE_ID: messageId });
    await child.waitForLine(/^connected$/, 60_000);
    await waitFor(async () => (await admin<MessageStatus>(`/messages/${messageId}`)).status === 200, { timeoutMs: 30_000, intervalMs: 20 });
    child.kill('SIGKILL');
    await child.exited;
    expect(child.lines).not.toContain('answered');
    await waitFor(async () => (await admin<MessageStatus>(`/messages/${messageId}`)).body.state === 'ACKNOWLEDGED', { timeoutMs: 30_000 });
    expect((await admin<MessageStatus>(`/messages/${messageId}`)).body.response).toEqual({ done: 1 });
    // The restarted caller passes the same id and gets the stored response without a second run.
    expect(await caller.callReliable('slow', 'work', { n: 1 }, { messageId })).toEqual({ done: 1 });
  });

  it('a router restarted during load: no message lost', async () => {
    slowDelayMs = 5;
    const ids = Array.from({ length: 300 }, () => newMessageId());
    const load = Promise.all(ids.map((messageId, i) => caller.callReliable<{ n: number }>('calc', 'double', { n: i }, { messageId, ackTimeoutMs: 2_000 })));
    await router.close();
    router = await harness.start();
    const results = await load;
    expect(results.map((r) => r.n)).toEqual(ids.map((_, i) => i * 2));
    for (const id of ids.slice(0, 20)) expect((await admin<MessageStatus>(`/messages/${id}`)).body.state).toBe('ACKNOWLEDGED');
  });
});
