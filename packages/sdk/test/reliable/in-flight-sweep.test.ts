/** The receiver's in-flight sweep (ADR 0027, "exactly-once calls"): working() and lease renewal. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JsMsg } from '@nats-io/jetstream';
import { InFlightSweep } from '../../src/reliable/in-flight-sweep.js';

const ACK_TIMEOUT_MS = 900; // swept every 300 ms

function fakeMsg(): JsMsg & { wip: number } {
  const m = { wip: 0, working: () => void m.wip++ };
  return m as unknown as JsMsg & { wip: number };
}

describe('InFlightSweep', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('tells the broker a delivery running a third of the ack timeout is still worked on, until it ends', async () => {
    const sweeps: number[] = [];
    const sweep = new InFlightSweep(ACK_TIMEOUT_MS, (now) => void sweeps.push(now));
    const msg = fakeMsg();
    let end!: () => void;
    const done = sweep.track(msg, () => new Promise<void>((resolve) => (end = resolve)));
    await vi.advanceTimersByTimeAsync(299);
    expect(msg.wip).toBe(0);
    await vi.advanceTimersByTimeAsync(1); // 300 ms old at the first tick
    expect(msg.wip).toBe(1);
    await vi.advanceTimersByTimeAsync(600);
    expect(msg.wip).toBe(3);
    end();
    await done;
    await vi.advanceTimersByTimeAsync(900);
    expect(msg.wip).toBe(3); // ended deliveries are left alone
    expect(sweeps).toHaveLength(6); // the guard's renewal runs at every tick
    sweep.close();
    await vi.advanceTimersByTimeAsync(900);
    expect(sweeps).toHaveLength(6);
  });

  it('a failing delivery leaves the sweep too', async () => {
    const sweep = new InFlightSweep(ACK_TIMEOUT_MS, undefined);
    const msg = fakeMsg();
    await expect(sweep.track(msg, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await vi.advanceTimersByTimeAsync(900);
    expect(msg.wip).toBe(0);
    sweep.close();
  });
});
