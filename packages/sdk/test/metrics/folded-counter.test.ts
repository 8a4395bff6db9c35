import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { FoldedCounter } from '../../src/metrics/folded-counter.js';

describe('FoldedCounter', () => {
  it('shows bound increments on every read, alongside ordinary ones, with the same labels', async () => {
    const registry = new Registry();
    const counter = new FoldedCounter({ name: 'x_total', help: 'h', labelNames: ['service_name', 'status'] as const, registers: [registry] });
    const ok = counter.bind({ service_name: 'svc', status: 'success' });
    expect(counter.bind({ service_name: 'svc', status: 'success' })).toBe(ok);
    for (let i = 0; i < 5; i++) ok.inc();
    counter.inc({ service_name: 'svc', status: 'error' });
    counter.inc({ service_name: 'svc', status: 'success' }, 2);
    const values = (await counter.get()).values.map((v) => [v.labels.status, v.value]);
    expect(Object.fromEntries(values)).toEqual({ success: 7, error: 1 });
    ok.inc();
    expect(await registry.metrics()).toContain('x_total{service_name="svc",status="success"} 8');
    // Folding is idempotent: a second read adds nothing.
    expect(await registry.metrics()).toContain('x_total{service_name="svc",status="success"} 8');
  });

  it('still runs a collect of its own', async () => {
    const counter = new FoldedCounter({
      name: 'y_total',
      help: 'h',
      labelNames: ['a'] as const,
      registers: [],
      collect() {
        this.inc({ a: 'collected' });
      },
    });
    counter.bind({ a: 'bound' }).inc();
    const values = Object.fromEntries((await counter.get()).values.map((v) => [v.labels.a, v.value]));
    expect(values).toEqual({ bound: 1, collected: 1 });
  });

  it('forgets a removed label set: its series, its bound incrementer and nothing else', async () => {
    const registry = new Registry();
    const counter = new FoldedCounter({ name: 'z_total', help: 'h', labelNames: ['service_name', 'instance_id'] as const, registers: [registry] });
    const gone = counter.bind({ service_name: 'svc', instance_id: 'a' });
    const kept = counter.bind({ service_name: 'svc', instance_id: 'b' });
    gone.inc();
    kept.inc();
    await registry.metrics();
    gone.inc(); // pending, never read: dropped with the label set
    counter.remove({ instance_id: 'a', service_name: 'svc' }); // any key order
    const after = await registry.metrics();
    expect(after).not.toContain('instance_id="a"');
    expect(after).toContain('z_total{service_name="svc",instance_id="b"} 1');
    // Bound again, the label set starts from zero with a new incrementer.
    const again = counter.bind({ service_name: 'svc', instance_id: 'a' });
    expect(again).not.toBe(gone);
    again.inc();
    expect(await registry.metrics()).toContain('z_total{service_name="svc",instance_id="a"} 1');
    counter.remove('svc', 'a'); // the positional form too
    expect(await registry.metrics()).not.toContain('instance_id="a"');
  });
});
