import { describe, expect, it, vi } from 'vitest';
import { DeadlineEntry, DeadlineTimers } from '../../src/transport/deadline-timers.js';

class Entry extends DeadlineEntry {
  constructor(readonly name: string) {
    super();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DeadlineTimers', () => {
  it('expires entries at their deadline, in order, per timeout, and never a removed one', async () => {
    const expired: Array<{ name: string; lateMs: number }> = [];
    const timers = new DeadlineTimers<Entry>((e) => expired.push({ name: e.name, lateMs: performance.now() - e.deadline }));
    const a = new Entry('a');
    const b = new Entry('b');
    const c = new Entry('c');
    const d = new Entry('d');
    timers.add(a, 40);
    timers.add(b, 40);
    timers.add(c, 15);
    await sleep(5);
    timers.add(d, 40);
    expect(timers.remove(b)).toBe(true);
    expect(timers.remove(b)).toBe(false);
    // Polled, not slept: on a loaded machine timers fire late, never early.
    await vi.waitFor(() => expect(expired.map((e) => e.name)).toEqual(['c', 'a', 'd']), { timeout: 2_000 });
    for (const e of expired) expect(e.lateMs).toBeGreaterThanOrEqual(0);
    expect(timers.remove(a)).toBe(false); // expired entries are no longer waiting
    timers.clear();
  });

  it('keeps a timeout added from an expiry callback, and stops everything on clear()', async () => {
    const expired: string[] = [];
    const timers: DeadlineTimers<Entry> = new DeadlineTimers<Entry>((e) => {
      expired.push(e.name);
      if (e.name === 'first') timers.add(new Entry('second'), 10);
    });
    timers.add(new Entry('first'), 10);
    await vi.waitFor(() => expect(expired).toEqual(['first', 'second']), { timeout: 2_000 });
    timers.add(new Entry('never'), 10);
    timers.clear();
    await sleep(30);
    expect(expired).toEqual(['first', 'second']);
  });

  it('a timeout added from an expiry callback does not delay the entries still waiting in that list', async () => {
    const expired: Array<{ name: string; lateMs: number }> = [];
    const timers: DeadlineTimers<Entry> = new DeadlineTimers<Entry>((e) => {
      expired.push({ name: e.name, lateMs: performance.now() - e.deadline });
      if (e.name === 'first') timers.add(new Entry('added'), 200);
    });
    timers.add(new Entry('first'), 200);
    const start = performance.now();
    while (performance.now() - start < 20) {
      // busy-wait so 'waiting' gets a later deadline in the same 200 ms list
    }
    timers.add(new Entry('waiting'), 200);
    await vi.waitFor(() => expect(expired.map((e) => e.name)).toContain('waiting'), { timeout: 2_000 });
    // Before the fix 'waiting' expired with 'added', about 180 ms late.
    expect(expired.map((e) => e.name).slice(0, 2)).toEqual(['first', 'waiting']);
    expect(expired.find((e) => e.name === 'waiting')!.lateMs).toBeLessThan(120);
    timers.clear();
  });

  it('handles removal from the middle, the front and the back of one list', async () => {
    const expired: string[] = [];
    const timers = new DeadlineTimers<Entry>((e) => expired.push(e.name));
    const entries = ['e0', 'e1', 'e2', 'e3', 'e4'].map((n) => new Entry(n));
    for (const e of entries) timers.add(e, 20);
    timers.remove(entries[2] as Entry);
    timers.remove(entries[0] as Entry);
    timers.remove(entries[4] as Entry);
    await vi.waitFor(() => expect(expired).toEqual(['e1', 'e3']), { timeout: 2_000 });
    await sleep(30);
    expect(expired).toEqual(['e1', 'e3']);
  });
});
