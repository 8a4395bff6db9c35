import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter } from '../../src/events/concurrency-limiter.js';

describe('ConcurrencyLimiter', () => {
  it('is full at its limit, hands a freed slot to a waiter, and is idle when nothing runs', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const finish: Array<() => void> = [];
    const task = () => new Promise<void>((resolve) => finish.push(resolve));
    limiter.run(task, () => undefined);
    expect(limiter.full).toBe(false);
    limiter.run(task, () => undefined);
    expect(limiter.full).toBe(true);
    let slotted = false;
    const slot = limiter.slot().then(() => (slotted = true));
    let idle = false;
    const idleP = limiter.idle().then(() => (idle = true));
    finish[0]?.();
    await slot;
    expect(slotted).toBe(true);
    expect(idle).toBe(false);
    finish[1]?.();
    await idleP;
    expect(idle).toBe(true);
  });

  it('frees the slot of a failed task, even when onError throws', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const seen: unknown[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      limiter.run(() => Promise.reject(new Error('task failed')), (err) => seen.push(err));
      await limiter.idle();
      limiter.run(() => Promise.reject(new Error('task failed again')), () => {
        throw new Error('logger failed');
      });
      await limiter.idle(); // hung before: the throwing onError skipped the release
      expect(limiter.full).toBe(false);
      expect(seen).toHaveLength(1);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled.map((e) => (e as Error).message)).toEqual(['logger failed']);
  });
});
