import { describe, expect, it } from 'vitest';
import { CoalescedWakeup } from '../../src/db/coalesced-wakeup.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A wake-up whose sends are recorded and finish only when the test says so. */
function harness() {
  const sends: Array<{ startedAfter: number; finish: (err?: Error) => void }> = [];
  const errors: unknown[] = [];
  let requests = 0;
  const wakeup = new CoalescedWakeup(
    () =>
      new Promise<void>((resolve, reject) => {
        sends.push({ startedAfter: requests, finish: (err) => (err === undefined ? resolve() : reject(err)) });
      }),
    (err) => errors.push(err),
  );
  const request = (): void => {
    requests++;
    wakeup.request();
  };
  return { wakeup, sends, errors, request };
}

describe('CoalescedWakeup (one NOTIFY for the commits of a moment)', () => {
  it('requests of one turn share one send, which starts after all of them', async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) h.request();
    expect(h.sends).toHaveLength(0); // scheduled for the next turn, not sent inline
    await turn();
    expect(h.sends).toHaveLength(1);
    expect(h.sends[0]?.startedAfter).toBe(5);
    h.sends[0]?.finish();
    await h.wakeup.idle();
    expect(h.sends).toHaveLength(1);
  });

  it('a request made while a send is in flight gets one more send after it (the first may have preceded its commit)', async () => {
    const h = harness();
    h.request();
    await turn();
    expect(h.sends).toHaveLength(1);
    h.request();
    h.request();
    await turn();
    expect(h.sends).toHaveLength(1); // at most one send in flight
    h.sends[0]?.finish();
    await turn();
    await turn();
    expect(h.sends).toHaveLength(2);
    expect(h.sends[1]?.startedAfter).toBe(3); // covers both requests made during the first send
    h.sends[1]?.finish();
    await h.wakeup.idle();
    expect(h.sends).toHaveLength(2);
  });

  it('every request is followed by a send that started after it, across many interleavings', async () => {
    const h = harness();
    let made = 0;
    for (let round = 0; round < 50; round++) {
      const burst = (round * 7) % 4; // 0..3 requests a turn, some while a send is in flight
      for (let i = 0; i < burst; i++) h.request();
      made += burst;
      await turn();
      if (round % 3 === 0) h.sends.at(-1)?.finish();
    }
    // Let every send finish (finishing a finished one is a no-op) until nothing is due.
    for (let i = 0; i < 10; i++) {
      h.sends.at(-1)?.finish();
      await turn();
    }
    await h.wakeup.idle();
    expect(made).toBeGreaterThan(0);
    expect(Math.max(...h.sends.map((s) => s.startedAfter))).toBe(made);
    expect(h.sends.length).toBeLessThan(made);
  });

  it('a failed send is reported, not retried, and does not stop later wake-ups', async () => {
    const h = harness();
    h.request();
    await turn();
    h.sends[0]?.finish(new Error('connection lost'));
    await h.wakeup.idle();
    expect(h.errors).toHaveLength(1);
    expect(h.sends).toHaveLength(1);
    h.request();
    await turn();
    expect(h.sends).toHaveLength(2);
    h.sends[1]?.finish();
    await h.wakeup.idle();
  });
});
