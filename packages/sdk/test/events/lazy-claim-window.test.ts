import { describe, expect, it } from 'vitest';
import { LazyClaimWindow } from '../../src/events/lazy-claim-window.js';

const NOW = 1_763_850_000_000;
const ns = (ms: number) => `${ms}000000`;

async function windowOf(duplicateWindowMs: number, ackWaitMs: number, errors: unknown[] = []): Promise<LazyClaimWindow> {
  const w = new LazyClaimWindow(() => Promise.resolve({ duplicateWindowMs, ackWaitMs }), 7_000, (err) => void errors.push(err));
  await w.start();
  w.close();
  return w;
}

describe('LazyClaimWindow (ADR 0026)', () => {
  it('is half the smaller of the duplicate window and ack_wait, as the server has them', async () => {
    expect((await windowOf(600_000, 30_000)).limit).toBe(15_000);
    expect((await windowOf(4_000, 30_000)).limit).toBe(2_000);
  });

  it('gives grace only to the first delivery of an SDK-made id younger than the limit', async () => {
    const w = await windowOf(600_000, 30_000);
    expect(w.graceMs(true, 1, ns(NOW - 100), NOW)).toBe(14_900);
    expect(w.graceMs(true, 1, ns(NOW - 150), NOW)).toBe(14_800); // rounded down to 100 ms
    expect(w.graceMs(true, 1, ns(NOW - 14_950), NOW)).toBe(0); // less than a step left: claim first
    expect(w.graceMs(false, 1, ns(NOW - 100), NOW)).toBe(0); // a caller's id
    expect(w.graceMs(true, 2, ns(NOW - 100), NOW)).toBe(0); // a redelivery claims first
    expect(w.graceMs(true, 1, ns(NOW - 15_000), NOW)).toBe(0); // too old
    expect(w.graceMs(true, 1, ns(NOW + 5_000), NOW)).toBe(15_000 + 5_000); // clocks a little apart
    expect(w.graceMs(true, 1, ns(NOW + 8_000), NOW)).toBe(0); // clocks too far apart to trust
    expect(w.graceMs(true, 1, '12', NOW)).toBe(0);
  });

  it('claims first while the settings are unknown, and replays wait by the options meanwhile', async () => {
    const errors: unknown[] = [];
    const w = new LazyClaimWindow(() => Promise.reject(new Error('no JetStream')), 7_000, (err) => void errors.push(err));
    await w.start();
    w.close();
    expect(w.limit).toBe(0);
    expect(errors).toHaveLength(1);
    expect(w.graceMs(true, 1, ns(NOW), NOW)).toBe(0);
    expect(w.waitMs(NOW - 1_000, NOW)).toBe(13_000);
  });

  it('makes a replay wait until twice the limit after its original was stored', async () => {
    const w = await windowOf(600_000, 30_000);
    expect(w.waitMs(0, NOW)).toBe(0);
    expect(w.waitMs(NOW - 10_000, NOW)).toBe(20_000);
    expect(w.waitMs(NOW - 40_000, NOW)).toBe(0);
    expect(w.waitMs(NOW + 3_600_000, NOW)).toBe(30_000); // never more than 2L
  });
});
