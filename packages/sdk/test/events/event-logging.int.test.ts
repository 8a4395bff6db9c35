/**
 * SPEC OBS-3 for events, per transport: the lines a delivery's outcome writes carry the event's
 * `message_id` and, when it travels with a `traceparent`, its `trace_id` — a QoS 2 dedupe hit, a
 * retry, the handled (dedupe miss) line at debug — and nothing per event at info on the happy path.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { captureLogs, waitFor, type LogCapture } from '@aegis-ipc/testing';
import { encode } from '@aegis-ipc/protocol';
import { TRANSPORTS, type EventBus, type TransportName } from '@aegis-ipc/sdk';
import { pino } from 'pino';
import { Harness } from './helpers.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe.each(TRANSPORTS)('event logs on %s', (transport) => {
  let h: Harness;

  beforeEach(async () => {
    h = await Harness.open();
  });
  afterEach(() => h.cleanup());

  async function busLogging(level: 'debug' | 'info'): Promise<{ bus: EventBus; logs: LogCapture }> {
    const logs = captureLogs();
    return { bus: await h.bus({ defaultTransport: transport, logger: pino({ level }, logs.stream) }), logs };
  }

  /** Stores a QoS `qos` event with id `id` and the test's traceparent, bypassing publish-side dedupe (so a copy is a second message). */
  async function writeRaw(t: TransportName, topic: string, id: string, qos: number): Promise<void> {
    const data = encode({ id });
    if (t === 'nats') {
      const hdrs = natsHeaders();
      hdrs.set('Ipc-Message-Id', id);
      hdrs.set('Ipc-Qos', String(qos));
      hdrs.set('traceparent', TRACEPARENT);
      await jetstream(h.nc).publish(`${h.names.subjectPrefix}.${topic}`, data, { headers: hdrs });
      return;
    }
    await h.redis.xAdd(`${h.names.redisKeyPrefix}:s:${topic}`, '*', {
      h: JSON.stringify({ 'Ipc-Message-Id': id, 'Ipc-Qos': String(qos), traceparent: TRACEPARENT }),
      d: Buffer.from(data),
    });
  }

  it('a QoS 2 duplicate logs event_dedupe_hit (info) and the first copy event_dedupe_miss (debug), both with message_id and trace_id', async () => {
    const { bus, logs } = await busLogging('debug');
    let runs = 0;
    await bus.subscribe('orders.logged', () => void runs++, { qos: 2, group: 'billing' });
    await writeRaw(transport, 'orders.logged', 'dup-1', 2);
    await waitFor(() => logs.withEvent('event_dedupe_miss').length === 1, { what: 'the first copy handled' });
    await writeRaw(transport, 'orders.logged', 'dup-1', 2);
    await waitFor(() => logs.withEvent('event_dedupe_hit').length === 1, { what: 'the second copy skipped' });
    const common = { message_id: 'dup-1', trace_id: TRACE_ID, qos: 2, transport, topic: 'orders.logged', group: 'billing', component: 'events' };
    expect(runs).toBe(1);
    expect(logs.withEvent('event_dedupe_miss')[0]).toMatchObject({ ...common, level: 20, delivery: 1 });
    expect(logs.withEvent('event_dedupe_hit')[0]).toMatchObject({ ...common, level: 30, delivery: 1 });
  });

  it('a failed attempt logs event_retry_scheduled (warn) with message_id, trace_id, the error and the delay; the retry that succeeds logs event_acked', async () => {
    const { bus, logs } = await busLogging('debug');
    let attempts = 0;
    await bus.subscribe(
      'orders.retried',
      () => {
        if (++attempts === 1) throw new Error('warehouse busy');
      },
      { qos: 1, maxDeliver: 3, backoff: [50] },
    );
    await writeRaw(transport, 'orders.retried', 'retry-1', 1);
    await waitFor(() => logs.withEvent('event_acked').length === 1, { what: 'the retry acknowledged' });
    const common = { message_id: 'retry-1', trace_id: TRACE_ID, qos: 1, transport, topic: 'orders.retried', group: 'default' };
    expect(logs.withEvent('event_retry_scheduled')).toEqual([
      expect.objectContaining({ ...common, level: 40, delivery: 1, retry_in_ms: 50, error: 'warehouse busy' }),
    ]);
    expect(logs.withEvent('event_acked')[0]).toMatchObject({ ...common, level: 20, delivery: 2 });
  });

  it.runIf(transport === 'redis')('a QoS 2 lease lost while the handler runs logs event_dedupe_lease_lost with the dedupe id', async () => {
    const { bus, logs } = await busLogging('info');
    let started = false;
    await bus.subscribe(
      'orders.leased',
      async () => {
        started = true;
        await new Promise((r) => setTimeout(r, 1_500)); // longer than a third of the 1 s lease: renewed from the sweep
      },
      { qos: 2, group: 'billing' },
    );
    await writeRaw(transport, 'orders.leased', 'leased-1', 2);
    await waitFor(() => started, { what: 'the handler running' });
    // Another party took the id from under it: the next renewal finds the lease gone.
    await h.redis.del(`${h.names.redisKeyPrefix}:dd:orders.leased.billing.leased-1`);
    await waitFor(() => logs.withEvent('event_dedupe_lease_lost').length === 1, { what: 'the lost lease logged' });
    expect(logs.withEvent('event_dedupe_lease_lost')[0]).toMatchObject({ level: 40, dedupe_id: 'leased-1', topic: 'orders.leased', group: 'billing', transport });
  });

  it('at info, a handled event writes no line; an untraced event is logged with its message_id and no trace_id', async () => {
    const { bus, logs } = await busLogging('info');
    let attempts = 0;
    await bus.subscribe(
      'orders.quiet',
      () => {
        if (++attempts === 1) throw new Error('once');
      },
      { qos: 1, maxDeliver: 2, backoff: [50] },
    );
    const { messageId } = await bus.publish('orders.quiet', { n: 1 }, { messageId: 'quiet-1' });
    await bus.publish('orders.quiet', { n: 2 }, { messageId: 'quiet-2' });
    await waitFor(() => attempts === 3, { what: 'three handler runs' });
    await bus.close(); // every ack sent, every line written
    expect(logs.records().filter((r) => typeof r['message_id'] === 'string').map((r) => r['event'])).toEqual(['event_retry_scheduled']);
    const [retry] = logs.withEvent('event_retry_scheduled');
    expect(retry).toMatchObject({ message_id: messageId });
    expect(retry).not.toHaveProperty('trace_id');
  });
});
