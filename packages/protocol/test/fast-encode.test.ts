import { describe, expect, it } from 'vitest';
import { encodeGeneral } from '../src/codec.js';
import { fastEncode } from '../src/fast-encode.js';

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const STRINGS = ['', 'a', 'seq', 'é', 'naïve café', '日本語', '😀', '\ud800', 'x\udc00y', '\ufeffbom', 'k'.repeat(31), 'k'.repeat(32), 'é'.repeat(20), 'l'.repeat(63), 'l'.repeat(64), `${'m'.repeat(70)}\ud800`, `${'n'.repeat(50)}\udc00`, `${'n'.repeat(62)}\ud800`, `${'n'.repeat(63)}\ud800`, '日'.repeat(90), 'w'.repeat(255), 'w'.repeat(256), 'v'.repeat(70_000), '1', '42', '__proto'];
const NUMBERS = [0, -0, 1, 31, 32, 127, 128, 255, 256, 65_535, 65_536, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, 0.5, -1.25, 1e300, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Math.PI];
const ODD: unknown[] = [undefined, new Date(1_700_000_000_000), Uint8Array.from([1, 2]), new Map([['a', 1]]), new Set([1]), 10n, new Point(1, 2), [1, undefined], Object.assign(Object.create(null) as object, { toJSON: () => 'j' }), { constructor: 'c' }, Symbol('s'), () => 1];

function randomValue(rand: () => number, depth: number): unknown {
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  switch (Math.floor(rand() * (depth > 4 ? 5 : 8))) {
    case 0:
      return pick(NUMBERS);
    case 1:
      return pick(STRINGS);
    case 2:
      return pick([null, true, false]);
    case 3:
      return rand() < 0.1 ? pick(ODD) : Math.floor(rand() * 2 ** 33) - 2 ** 32;
    case 4:
      return rand() * 1e6 - 5e5;
    case 5:
    case 6: {
      const out: Record<string, unknown> = rand() < 0.2 ? (Object.create(null) as Record<string, unknown>) : {};
      const n = Math.floor(rand() * (rand() < 0.05 ? 40 : 6));
      for (let i = 0; i < n; i++) out[pick(STRINGS).slice(0, 70) + String(i)] = rand() < 0.1 ? undefined : randomValue(rand, depth + 1);
      return out;
    }
    default:
      return Array.from({ length: Math.floor(rand() * (rand() < 0.05 ? 40 : 5)) }, () => randomValue(rand, depth + 1));
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('fastEncode', () => {
  it('writes the bytes msgpackr writes for random plain data, and declines the rest', () => {
    const rand = prng(0xe7c0de);
    let accepted = 0;
    const total = 4_000;
    for (let i = 0; i < total; i++) {
      const value = randomValue(rand, 0);
      const fast = fastEncode(value);
      if (fast === undefined) continue;
      accepted++;
      expect(hex(fast)).toBe(hex(encodeGeneral(value)));
    }
    expect(accepted).toBeGreaterThan(total / 2);
  });

  it.each(ODD.map((value, i) => [i, value]))('declines odd value #%i (msgpackr has its own encoding for it)', (_name, value) => {
    expect(fastEncode(value)).toBeUndefined();
    expect(fastEncode({ nested: [value] })).toBeUndefined();
  });

  it('keeps earlier results intact across slabs', () => {
    const first = fastEncode({ a: 'first' }) as Uint8Array;
    const copy = hex(first);
    for (let i = 0; i < 10; i++) fastEncode({ blob: 'z'.repeat(20_000 + i) });
    expect(hex(first)).toBe(copy);
    const big = fastEncode({ blob: 'y'.repeat(300_000) }) as Uint8Array;
    expect(hex(big)).toBe(hex(encodeGeneral({ blob: 'y'.repeat(300_000) })));
  });

  it('writes keys first seen in an encoding it then declined correctly (its bytes are reused)', () => {
    expect(fastEncode({ service_name: 's', method: 'm', blob: new Uint8Array(1) })).toBeUndefined();
    const value = { method: 'm', service_name: 's' };
    expect(hex(fastEncode(value) as Uint8Array)).toBe(hex(encodeGeneral(value)));
  });

  it('declines nesting deeper than msgpackr is left to handle', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(fastEncode(deep)).toBeUndefined();
  });
});
