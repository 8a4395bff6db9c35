/** Metrics on the caller's registry, stats, and the Redis persistence warning. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '@aegis-ipc/testing';
import { TRANSPORTS } from '@aegis-ipc/sdk';
import { Harness } from './helpers.js';

describe.each(TRANSPORTS)('event bus observability on %s', (transport) => {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.open();
  });
  afterEach(() => h.cleanup());

  it('counts published, delivered, acked, redelivered and dead-lettered per topic/group, and reads pending and lag', async () => {
    const registry = new Registry();
    const bus = await h.bus({ defaultTransport: transport, registry });
    let failOnce = true;
    await bus.subscribe(
      'audit.logged',
      (m) => {
        if ((m.payload as { n: number }).n === 0 && failOnce) {
          failOnce = false;
          throw new Error('transient');
        }
        if ((m.payload as { n: number }).n === 1) throw new Error('poison');
      },
      { qos: 1, group: 'auditor', maxDeliver: 2, backoff: [50] },
    );
    for (let n = 0; n < 5; n++) await bus.publish('audit.logged', { n }, { qos: 1 });
    const value = async (name: string) => {
      const metric = await registry.getSingleMetric(name)?.get();
      return metric?.values.find((v) => v.labels.topic === 'audit.logged')?.value ?? 0;
    };
    await waitFor(async () => (await value('aegis_events_dead_lettered_total')) === 1 && (await value('aegis_events_acked_total')) === 4, {
      what: '4 acked and 1 dead letter',
    });
    expect(await value('aegis_events_published_total')).toBe(5);
    expect(await value('aegis_events_delivered_total')).toBe(7); // 5 + 1 retry of n=0 + 1 retry of n=1
    expect(await value('aegis_events_redelivered_total')).toBe(2);
    expect(await value('aegis_events_retried_total')).toBe(2);
    await waitFor(async () => (await registry.metrics()).includes(`aegis_events_pending{transport="${transport}",topic="audit.logged",group="auditor"} 0`), {
      what: 'the pending gauge from the broker',
    });
    expect(await registry.metrics()).toContain(`aegis_events_consumer_lag{transport="${transport}",topic="audit.logged",group="auditor"} 0`);
  });

  it.runIf(transport === 'redis')('warns at start when Redis appendonly is off', async () => {
    const appendonly = ((await h.redis.configGet('appendonly')) as Record<string, string>).appendonly;
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    await h.bus({ defaultTransport: 'redis', logger: pino({ level: 'warn' }, sink), registry: new Registry() });
    const warned = lines.some((l) => l.includes('appendonly is off'));
    expect(warned).toBe(appendonly !== 'yes');
  });
});
