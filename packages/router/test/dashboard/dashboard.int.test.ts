/**
 * The built-in dashboard in headless Chromium: it lists registered instances, follows an instance
 * going OFFLINE without a reload, shows routing decisions and the outbox backlog, and sends a
 * browser through /login when an admin token is set. Screenshots go to test-output/dashboard/.
 */
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { NatsConnection } from '@nats-io/nats-core';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { newMessageId } from '@aegis-ipc/protocol';
import { KvDedupeStore, MESSAGE_STATUS_BUCKET, RELIABLE_DLQ_STREAM, RELIABLE_STREAM, ReliableReceiver, connect, type AegisClient, type ServiceInstance } from '@aegis-ipc/sdk';
import { connectTestNats, createTestDatabase, deleteBuckets, deleteStreams, uniqueName, waitFor, type TestDatabase } from '@aegis-ipc/testing';
import { migrate, openDatabase, OutboxWriter } from '@aegis-ipc/outbox';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const SHOTS = fileURLToPath(new URL('../../../../test-output/dashboard/', import.meta.url));
const TOKEN = `dash-${uniqueName('t')}`;
// The machine is loaded: give the page time, never race it.
const UI_TIMEOUT = 30_000;

const harness = routerHarness();
let open: Router;
let guarded: Router;
let nc: NatsConnection;
let client: AegisClient;
let testDb: TestDatabase;
let browser: Browser;
const billing = uniqueName('billing');
const search = uniqueName('search');
const instances: ServiceInstance[] = [];
const dedupeBucket = uniqueName('dedupe');
let receiver: ReliableReceiver | undefined;
const failedMessageId = newMessageId();

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // An outbox with one undelivered event (no relay runs), so the backlog panel has numbers.
  testDb = await createTestDatabase('aegis_dash');
  const db = await openDatabase({ databaseUrl: testDb.url, poolSize: 1 });
  await migrate(db);
  await new OutboxWriter(db).submitCommand(
    { aggregateType: 'TEST_SESSION', sessionId: randomUUID(), commandType: 'ConfirmStage', correlationId: 'corr-1', causationId: 'req-1' },
    () => ({ outcome: 'completed', events: [{ eventType: 'Test.Session.StageConfirmed' }] }),
  );
  await db.close();

  // Replicas share routed calls through a queue group: the guarded one starts after the calls,
  // so every trace and selection lands on `open`.
  open = await harness.start({ outboxDatabaseUrl: testDb.url });
  nc = await connectTestNats();
  client = await connect({ nc });
  for (const [service, id, zone] of [[billing, `${billing}-1`, 'eu-1'], [billing, `${billing}-2`, 'eu-2'], [search, `${search}-1`, 'us-1']] as const) {
    const instance = await client.register(service, id, { zone });
    instance.handle('echo', (params) => params).handle('boom', () => {
      throw new Error('handler failed on purpose');
    });
    instances.push(instance);
  }
  await waitFor(() => open.registry.online(billing).length === 2 && open.registry.online(search).length === 1);
  // Routed calls so the distribution bars and the traces table have content.
  for (let i = 0; i < 6; i++) await client.call(billing, 'echo', { i });
  await client.call(search, 'echo', {});
  await client.call(billing, 'boom', {}).catch(() => undefined);
  // An exactly-once call whose handler throws: FAILED at once and parked as a dead letter.
  const store = await KvDedupeStore.open(nc, { bucket: dedupeBucket, ttlMs: 60 * 60 * 1000 });
  receiver = await ReliableReceiver.start(instances[2]!, { idempotency: { store }, registry: new Registry(), logger: pino({ level: 'silent' }) });
  await client.callReliable(search, 'boom', {}, { messageId: failedMessageId }).catch(() => undefined);

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await client?.close();
  await deleteStreams(nc, [RELIABLE_STREAM, RELIABLE_DLQ_STREAM]);
  await deleteBuckets(nc, [dedupeBucket, MESSAGE_STATUS_BUCKET]);
  await nc?.close();
  await harness.cleanup();
  await testDb?.drop();
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(UI_TIMEOUT);
  return page;
}

const row = (page: Page, instanceId: string) => page.locator(`#services-body tr[data-instance="${instanceId}"]`);

describe('dashboard in Chromium', () => {
  it('shows services, instances, distribution, traces, breakers and the outbox backlog', async () => {
    const page = await newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(open.url!);
    await expect.poll(() => row(page, `${billing}-1`).getAttribute('data-status'), { timeout: UI_TIMEOUT }).toBe('ONLINE');
    await expect.poll(() => row(page, `${search}-1`).getAttribute('data-status'), { timeout: UI_TIMEOUT }).toBe('ONLINE');
    await page.locator(`#distribution-body .dist[data-service="${billing}"] .bar-row`).nth(1).waitFor();
    expect(await page.locator(`#distribution-body .dist[data-service="${billing}"] .bar-row`).count()).toBe(2);
    await page.locator('#traces-body tr[data-trace]').first().waitFor();
    await expect.poll(() => page.locator('#outbox-body .stat-num').first().textContent(), { timeout: UI_TIMEOUT }).toBe('1');
    await page.locator('#traces-body tr[data-trace]', { hasText: 'error reply' }).waitFor();
    await page.locator(`#distribution-body .dist[data-service="${search}"]`).waitFor();
    expect(await page.locator('#live').getAttribute('class')).toBe('live ok');
    expect(await page.locator('#logout').isHidden()).toBe(true);
    await page.screenshot({ path: `${SHOTS}dashboard-live.png` });

    // A routed call's decisions open in place.
    await page.locator('#traces-body tr[data-trace]').first().click();
    await page.locator('#traces-body tr.detail .decisions').waitFor();
    await page.screenshot({ path: `${SHOTS}dashboard-trace-decisions.png` });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('follows an instance going OFFLINE without a reload', async () => {
    const page = await newPage();
    await page.goto(open.url!);
    await expect.poll(() => row(page, `${billing}-2`).getAttribute('data-status'), { timeout: UI_TIMEOUT }).toBe('ONLINE');
    // Survives only if the page is never reloaded.
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    await instances[1]!.close();
    await expect.poll(() => row(page, `${billing}-2`).getAttribute('data-status'), { timeout: UI_TIMEOUT }).toBe('OFFLINE');
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    await page.locator('#history-body li', { hasText: `${billing}-2` }).filter({ hasText: 'OFFLINE' }).first().waitFor();
    await page.screenshot({ path: `${SHOTS}dashboard-instance-offline.png` });
    await page.close();
  });

  it('looks up a trace id in the message lookup box', async () => {
    const page = await newPage();
    await page.goto(open.url!);
    const traceId = open.routing.traces.recent(1)[0]!.trace_id;
    await page.locator('#lookup-input').fill(traceId);
    await page.locator('#lookup-form button').click();
    await page.locator('#lookup-body .decisions').waitFor();
    expect(await page.locator('#lookup-body').textContent()).toContain(traceId);
    await page.screenshot({ path: `${SHOTS}dashboard-lookup.png` });
    await page.close();
  });

  it('lists the dead letter and opens its message status with a click', async () => {
    const page = await newPage();
    await page.goto(open.url!);
    const letter = page.locator(`#dlq-body tr[data-message="${failedMessageId}"]`);
    await letter.waitFor();
    await letter.click();
    // Polled as text so a failure shows what the panel said instead.
    await expect.poll(() => page.locator('#lookup-body').textContent(), { timeout: UI_TIMEOUT }).toContain('FAILED');
    expect(await page.locator('#lookup-body dl.message .pill-FAILED').count()).toBe(1);
    expect(await page.locator('#lookup-body').textContent()).toContain(failedMessageId);
    expect(await page.locator('#lookup-body button', { hasText: 'Replay' }).isVisible()).toBe(true);
    await page.screenshot({ path: `${SHOTS}dashboard-dead-letter.png` });
    await page.close();
  });

  it('sends a browser through /login when an admin token is set', async () => {
    guarded = await harness.start({ adminToken: TOKEN });
    const page = await newPage();
    await page.goto(guarded.url!);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.screenshot({ path: `${SHOTS}dashboard-login.png` });

    await page.locator('#token').fill('not-the-token');
    await page.locator('form.login button').click();
    await page.locator('.login .error').waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');

    await page.locator('#token').fill(TOKEN);
    await page.locator('form.login button').click();
    await page.waitForURL((url) => url.pathname === '/');
    await expect.poll(() => row(page, `${search}-1`).getAttribute('data-status'), { timeout: UI_TIMEOUT }).toBe('ONLINE');
    expect(await page.locator('#logout').isVisible()).toBe(true);
    await page.screenshot({ path: `${SHOTS}dashboard-after-login.png` });

    await page.locator('#logout button').click();
    await page.waitForURL((url) => url.pathname === '/login');
    await page.goto(guarded.url!);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.close();
  });
});
