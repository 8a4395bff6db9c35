import { describe, expect, it } from 'vitest';
import { STRATEGIES, random, resourceAffinity, roundRobin, strategyByName, type Candidate } from '../../src/routing/strategies/index.js';

const inst = (...ids: string[]): Candidate[] => ids.map((instance_id) => ({ instance_id }));

/** Runs `n` round-robin selections with the cursor kept like the router does. */
function spin(instances: () => readonly Candidate[], n: number, start?: string): { counts: Map<string, number>; last: string | undefined } {
  const counts = new Map<string, number>();
  let previous = start;
  for (let k = 0; k < n; k++) {
    const chosen = roundRobin.select(instances(), { serviceName: 's', previous });
    if (chosen === undefined) throw new Error('nothing chosen');
    previous = chosen.instance_id;
    counts.set(previous, (counts.get(previous) ?? 0) + 1);
  }
  return { counts, last: previous };
}

describe('round robin', () => {
  it('cycles through instances in id order', () => {
    const list = inst('a', 'b', 'c');
    const seq: string[] = [];
    let previous: string | undefined;
    for (let k = 0; k < 6; k++) {
      previous = roundRobin.select(list, { serviceName: 's', previous })?.instance_id;
      seq.push(previous as string);
    }
    expect(seq).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('spreads 3,000 calls over 3 instances exactly evenly', () => {
    const list = inst('i-1', 'i-2', 'i-3');
    expect([...spin(() => list, 3_000).counts.values()]).toEqual([1_000, 1_000, 1_000]);
  });

  it('continues after the last chosen id when it left (no reset to the first instance)', () => {
    // b was chosen last and then left: the next turn is c, not a.
    expect(roundRobin.select(inst('a', 'c'), { serviceName: 's', previous: 'b' })?.instance_id).toBe('c');
    // the last one left: wrap to the first
    expect(roundRobin.select(inst('a', 'b'), { serviceName: 's', previous: 'c' })?.instance_id).toBe('a');
  });

  it('gives a joining instance its turn in the same cycle', () => {
    let list = inst('a', 'c');
    const seq: string[] = [];
    let previous: string | undefined;
    for (let k = 0; k < 6; k++) {
      if (k === 1) list = inst('a', 'b', 'c'); // b joins right after a was chosen
      previous = roundRobin.select(list, { serviceName: 's', previous })?.instance_id;
      seq.push(previous as string);
    }
    expect(seq).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('keeps the always-present instances even while another one flaps', () => {
    const all = inst('a', 'b', 'c', 'd');
    let calls = 0;
    // d is out for every other block of 7 calls: an index-based cursor would skew toward a
    const { counts } = spin(() => (Math.floor(calls++ / 7) % 2 === 0 ? all : all.slice(0, 3)), 7_000);
    const steady = ['a', 'b', 'c'].map((id) => counts.get(id) as number);
    expect(Math.max(...steady) - Math.min(...steady)).toBeLessThanOrEqual(2);
    expect([...counts.values()].reduce((x, y) => x + y)).toBe(7_000);
  });

  it('skips excluded instances (failover goes to a different one)', () => {
    const list = inst('a', 'b', 'c');
    expect(roundRobin.select(list, { serviceName: 's', previous: 'a', exclude: new Set(['b']) })?.instance_id).toBe('c');
    expect(roundRobin.select(list, { serviceName: 's', exclude: new Set(['a', 'b', 'c']) })).toBeUndefined();
    expect(roundRobin.select([], { serviceName: 's' })).toBeUndefined();
  });
});

describe('random', () => {
  it('picks only among not-excluded instances', () => {
    const list = inst('a', 'b', 'c');
    for (let k = 0; k < 50; k++) expect(random.select(list, { serviceName: 's', exclude: new Set(['a', 'c']) })?.instance_id).toBe('b');
    expect(random.select(list, { serviceName: 's', exclude: new Set(['a', 'b', 'c']) })).toBeUndefined();
  });
});

describe('resource affinity', () => {
  it('sends the same resource to the same instance, and moves only the resources of a leaving instance', () => {
    const list = inst('a', 'b', 'c', 'd');
    const before = new Map<string, string>();
    for (let r = 0; r < 400; r++) before.set(`order-${r}`, resourceAffinity.select(list, { serviceName: 's', resourceId: `order-${r}` })?.instance_id as string);
    const used = new Set(before.values());
    expect(used.size).toBe(4);
    const without = list.filter((i) => i.instance_id !== 'b');
    for (const [resource, owner] of before) {
      const now = resourceAffinity.select(without, { serviceName: 's', resourceId: resource })?.instance_id;
      if (owner !== 'b') expect(now).toBe(owner);
      else expect(now).not.toBe('b');
    }
  });

  it('falls back to round robin without a resource id, and honours exclusions', () => {
    const list = inst('a', 'b');
    expect(resourceAffinity.select(list, { serviceName: 's', previous: 'a' })?.instance_id).toBe('b');
    const owner = resourceAffinity.select(list, { serviceName: 's', resourceId: 'x' })?.instance_id as string;
    expect(resourceAffinity.select(list, { serviceName: 's', resourceId: 'x', exclude: new Set([owner]) })?.instance_id).not.toBe(owner);
  });
});

describe('strategyByName', () => {
  it('knows every built-in strategy and refuses others', () => {
    for (const name of Object.keys(STRATEGIES)) expect(strategyByName(name).name).toBe(name);
    expect(() => strategyByName('fastest')).toThrow(/unknown routing strategy/);
  });
});
