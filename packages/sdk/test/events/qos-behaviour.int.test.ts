/**
 * Per transport: QoS 0 loss without subscribers, poison messages and dead letters, consumer
 * groups, Redis reclaim of a killed consumer's entries, and typed errors for bad input.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { spawnTs, waitFor } from '@aegis-ipc/testing';
import { AegisError, TRANSPORTS, type EventBus, type EventMessage } from '@aegis-ipc/sdk';
import { Harness, childEnv, sleep } from './helpers.js';

const SUBSCRIBER = fileURLToPath(new URL('./fixtures/subscriber.ts', import.meta.url));

describe.each(TRANSPORTS)('event bus on %s', (transport) => {
  let h: Harness;
  let bus: EventBus;

  beforeEach(async () => {
    h = await Harness.open();
    bus = await h.bus({ defaultTransport: transport });
  });
  afterEach(() => h.cleanup());

  it('QoS 0 loses what is published while nobody subscribes, delivers the rest', async () => {
    for (let i = 0; i < 20; i++) await bus.publish('metrics.tick', { i }, { qos: 0 });
    const got: number[] = [];
    await bus.subscribe<{ i: number }>('metrics.tick', (m) => void got.push(m.payload.i), { qos: 0 });
    await sleep(300); // the Redis reader must be blocked in XREADGROUP before we publish
    for (let i = 20; i < 40; i++) await bus.publish('metrics.tick', { i }, { qos: 0 });
    await waitFor(() => got.length >= 20, { what: '20 QoS 0 events' });
    await sleep(200);
    console.log(`[${transport}] QoS 0: published 40 (20 with no subscriber), received ${got.length}`);
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 20));
  });

  it('a poison message gets exactly maxDeliver attempts, one dead letter, and does not block the others', async () => {
    const attempts = new Map<string, number>();
    const done: string[] = [];
    await bus.subscribe<{ poison: boolean }>(
      'orders.paid',
      (m) => {
        attempts.set(m.messageId, (attempts.get(m.messageId) ?? 0) + 1);
        if (m.payload.poison) throw new Error('cannot charge: card\nrejected');
        done.push(m.messageId);
      },
      { qos: 1, maxDeliver: 3, backoff: [100, 200], concurrency: 2 },
    );
    const poison = await bus.publish('orders.paid', { poison: true }, { qos: 1, messageId: 'poison-1' });
    for (let i = 0; i < 20; i++) await bus.publish('orders.paid', { poison: false }, { qos: 1 });
    await waitFor(() => done.length === 20, { what: 'the good events' });
    await waitFor(async () => (await bus.deadLetters()).length === 1, { timeoutMs: 15_000, what: 'one dead letter' });
    await sleep(1_500); // no further attempt may come (ack_wait 1 s)
    const [dl] = await bus.deadLetters();
    console.log(`[${transport}] poison: attempts ${attempts.get(poison.messageId)}, dead letters 1, good acked ${done.length}`);
    expect(attempts.get(poison.messageId)).toBe(3);
    expect(dl).toMatchObject({ topic: 'orders.paid', group: 'default', messageId: 'poison-1', deliveryCount: 3, payload: { poison: true } });
    expect(dl!.error).toBe('cannot charge: card rejected');
    expect((await bus.stats()).find((s) => s.topic === 'orders.paid')).toMatchObject({ pending: 0, lag: 0 });

    // Replay re-publishes it to the topic (the same id) and removes the dead letter.
    expect(await bus.replay(dl!.id)).toBe(true);
    await waitFor(() => (attempts.get(poison.messageId) ?? 0) === 4, { what: 'the replayed attempt' });
    await waitFor(async () => (await bus.deadLetters()).length === 1, { what: 'dead-lettered again (still poison)' });
  });

  it('names a QoS 1 event published without an id by its broker position, through dead letter and replay', async () => {
    const seen: Array<{ id: string; qos: number; headers: Record<string, string> }> = [];
    await bus.subscribe<{ poison: boolean }>(
      'orders.positioned',
      (m) => {
        seen.push({ id: m.messageId, qos: m.qos, headers: { ...m.headers } });
        if (m.payload.poison) throw new AegisError('CONFIG_INVALID', 'poison', { retryable: false });
      },
      { qos: 1, maxDeliver: 2, backoff: [50] },
    );
    const plain = await bus.publish('orders.positioned', { poison: false });
    const poison = await bus.publish('orders.positioned', { poison: true });
    const named = await bus.publish('orders.positioned', { poison: false }, { messageId: 'named-1', headers: { tenant: 'acme' } });
    // NATS: `<STREAM>-<seq>`; Redis: the entry id. Distinct, and the named one kept.
    expect(plain.messageId).toMatch(transport === 'nats' ? new RegExp(`^${h.names.stream}-\\d+$`) : /^\d+-\d+$/);
    expect(new Set([plain.messageId, poison.messageId, named.messageId]).size).toBe(3);
    expect(named.messageId).toBe('named-1');
    await waitFor(() => seen.length === 3, { what: 'three deliveries' });
    expect(seen.map((s) => s.id).sort()).toEqual([plain.messageId, poison.messageId, named.messageId].sort());
    expect(seen.every((s) => s.qos === 1)).toBe(true);
    expect(seen.find((s) => s.id === 'named-1')?.headers).toEqual({ tenant: 'acme' });
    if (transport === 'nats') {
      // A plain QoS 1 publish sends no header block at all (ADR 0025).
      const stored = await (await jetstreamManager(h.nc)).streams.getMessage(h.names.stream, { seq: Number(plain.messageId.split('-').pop()) });
      expect(stored?.header === undefined ? [] : [...stored.header.keys()]).toEqual([]);
    }

    await waitFor(async () => (await bus.deadLetters()).length === 1, { what: 'the poison dead letter' });
    const [dl] = await bus.deadLetters();
    expect(dl?.messageId).toBe(poison.messageId);
    expect(await bus.replay(dl!.id)).toBe(true);
    await waitFor(() => seen.filter((s) => s.id === poison.messageId).length === 2, { what: 'the replay, under the same id' });
  });

  it('a recreated stream reuses sequence numbers, yet a QoS 2 group does not take a new event for an old one', async () => {
    if (transport !== 'nats') return; // Redis entry ids come from its clock and are not reused
    const seen: string[] = [];
    const first = await bus.subscribe('orders.reborn', (m) => void seen.push(m.messageId), { qos: 2, group: 'billing' });
    const before = await bus.publish('orders.reborn', { n: 1 });
    await waitFor(() => seen.length === 1, { what: 'the first event' });
    await first.close();
    await bus.close();
    // An operator deletes the event stream; the dedupe bucket (and its records) stays.
    await (await jetstreamManager(h.nc)).streams.delete(h.names.stream);
    const reborn = await h.bus({ defaultTransport: transport });
    await reborn.subscribe('orders.reborn', (m) => void seen.push(m.messageId), { qos: 2, group: 'billing' });
    const after = await reborn.publish('orders.reborn', { n: 2 });
    expect(after.messageId).toBe(before.messageId); // same stream, same sequence: the same position id
    await waitFor(() => seen.length === 2, { what: 'the new event, not skipped as a duplicate of the old one' });
  });

  it('a replayed dead letter of a position-named event is skipped by the QoS 2 groups that completed it', async () => {
    const runs = { shipping: 0, billing: 0 };
    await bus.subscribe('orders.split', () => void runs.shipping++, { qos: 2, group: 'shipping' });
    await bus.subscribe(
      'orders.split',
      () => {
        runs.billing++;
        throw new AegisError('CONFIG_INVALID', 'billing refuses it', { retryable: false });
      },
      { qos: 2, group: 'billing' },
    );
    const { messageId } = await bus.publish('orders.split', { n: 1 }); // QoS 1, named by position
    await waitFor(async () => runs.shipping === 1 && (await bus.deadLetters()).length === 1, { what: 'shipping done, billing dead-lettered' });
    const [dl] = await bus.deadLetters();
    expect(dl?.messageId).toBe(messageId);
    expect(await bus.replay(dl!.id)).toBe(true);
    await waitFor(() => runs.billing === 2, { what: 'billing runs the replay' });
    await sleep(500);
    console.log(`[${transport}] replay: shipping ran ${runs.shipping}, billing ${runs.billing}`);
    expect(runs.shipping).toBe(1); // completed before: the replay is a duplicate for this group
  });

  it('balances a group across subscribers and gives every group all events', async () => {
    const seen = { a1: [] as string[], a2: [] as string[], b: [] as string[] };
    const record = (list: string[]) => async (m: EventMessage) => {
      list.push(m.messageId);
      await sleep(5);
    };
    await bus.subscribe('users.signed-up', record(seen.a1), { qos: 1, group: 'mailer' });
    await bus.subscribe('users.signed-up', record(seen.a2), { qos: 1, group: 'mailer' });
    await bus.subscribe('users.signed-up', record(seen.b), { qos: 1, group: 'analytics' });
    for (let i = 0; i < 60; i++) await bus.publish('users.signed-up', { i }, { qos: 1 });
    await waitFor(() => seen.a1.length + seen.a2.length === 60 && seen.b.length === 60, { what: 'all deliveries' });
    console.log(`[${transport}] groups: mailer ${seen.a1.length}+${seen.a2.length}, analytics ${seen.b.length}`);
    expect(new Set([...seen.a1, ...seen.a2]).size).toBe(60);
    expect(seen.a1.length).toBeGreaterThan(0);
    expect(seen.a2.length).toBeGreaterThan(0);
  });

  it('rejects bad topic names and oversized payloads with typed errors; the connection stays up', async () => {
    for (const topic of ['', 'a..b', 'orders.*', 'orders.>', 'has space', 'x'.repeat(300)]) {
      await expect(bus.publish(topic, {})).rejects.toMatchObject({ code: 'INVALID_NAME' });
      await expect(bus.subscribe(topic, () => undefined)).rejects.toMatchObject({ code: 'INVALID_NAME' });
    }
    await expect(bus.publish('ok', {}, { messageId: 'bad id' })).rejects.toMatchObject({ code: 'INVALID_NAME' });
    await expect(bus.publish('ok', {}, { headers: { 'Ipc-Message-Id': 'x' } })).rejects.toMatchObject({ code: 'INVALID_NAME' });
    const limit = transport === 'nats' ? h.nc.info!.max_payload : bus.options.redisMaxPayloadBytes;
    for (const qos of [0, 1, 2] as const) {
      const err = await bus.publish('files.uploaded', new Uint8Array(limit + 1), { qos }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AegisError);
      expect(err).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limit } });
    }
    expect(h.nc.isClosed()).toBe(false);
    const got: unknown[] = [];
    await bus.subscribe('files.uploaded', (m) => void got.push(m.payload), { qos: 1 });
    await bus.publish('files.uploaded', { small: true }, { qos: 1 });
    await waitFor(() => got.length === 1, { what: 'a normal event after the rejected ones' });
  });

  it('reclaims the pending entries of a killed consumer into a live one', async () => {
    // The child takes entries and hangs in its handler: they stay pending under its name.
    const child = spawnTs(SUBSCRIBER, [], childEnv(transport, h.names, { EVT_TOPIC: 'jobs.run', EVT_HANG: '1', EVT_CONCURRENCY: '5' }));
    try {
      await child.waitForLine(/^ready$/, 30_000);
      for (let i = 0; i < 10; i++) await bus.publish('jobs.run', { i }, { qos: 1 });
      await waitFor(() => child.lines.filter((l) => l.startsWith('start ')).length === 5, { what: 'the child holding 5 entries' });
      child.kill('SIGKILL');
      await child.exited;
    } finally {
      child.kill('SIGKILL');
    }
    const got: EventMessage[] = [];
    await bus.subscribe('jobs.run', (m) => void got.push(m), { qos: 1, group: 'g' });
    await waitFor(() => new Set(got.map((m) => m.messageId)).size === 10, { timeoutMs: 15_000, what: 'all 10 jobs' });
    const redelivered = got.filter((m) => m.deliveryCount > 1).length;
    console.log(`[${transport}] reclaim: 10 jobs, ${redelivered} taken over from the killed consumer`);
    expect(redelivered).toBeGreaterThanOrEqual(5);
    await waitFor(async () => (await bus.stats()).find((s) => s.topic === 'jobs.run' && s.group === 'g')?.pending === 0, {
      what: 'nothing pending',
    });
  });
});
