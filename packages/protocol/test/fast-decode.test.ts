import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AegisError, encode } from '@aegis-ipc/protocol';
import { decodeGeneral } from '../src/codec.js';
import { DECLINED, fastDecode } from '../src/fast-decode.js';

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

const STRINGS = ['', 'a', 'seq', 'trace_id', 'x'.repeat(7), 'y'.repeat(8), 'z'.repeat(40), 'é', 'naïve café', '日本語のテキスト', '😀 emoji', '\ufeffbom', 'a\ufffdb', 'constructor_', 'toString', '0', '12', '__proto', 'k'.repeat(33), 'w'.repeat(300), 'v'.repeat(70_000)];
const NUMBERS = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 40), 0.5, -1.25, 1e300, -0, Number.NaN, Number.POSITIVE_INFINITY, Math.PI];

function randomValue(rand: () => number, depth: number): unknown {
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const kind = Math.floor(rand() * (depth > 4 ? 6 : 9));
  switch (kind) {
    case 0:
      return pick(NUMBERS);
    case 1:
      return pick(STRINGS);
    case 2:
      return pick([null, true, false, undefined]);
    case 3:
      return Math.floor(rand() * 2 ** 32) - 2 ** 31;
    case 4:
      return rand() < 0.5 ? Uint8Array.from([1, 2, 3]) : new Date(1_700_000_000_000);
    case 5:
      return rand() * 1000;
    case 6:
    case 7: {
      const out: Record<string, unknown> = {};
      const n = Math.floor(rand() * 6);
      for (let i = 0; i < n; i++) out[pick(STRINGS).slice(0, 40) + String(Math.floor(rand() * 3))] = randomValue(rand, depth + 1);
      return out;
    }
    default:
      return Array.from({ length: Math.floor(rand() * 5) }, () => randomValue(rand, depth + 1));
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

function general(bytes: Uint8Array, depth: number, entries: number): Outcome {
  try {
    return { ok: true, value: decodeGeneral(bytes, depth, entries) };
  } catch (err) {
    return { ok: false, code: err instanceof AegisError ? err.code : `not an AegisError: ${String(err)}` };
  }
}

/** Whatever the fast path accepts, the general path must decode to the same data. */
function agree(bytes: Uint8Array, depth = 32, entries = 100_000): boolean {
  const fast = fastDecode(bytes, depth, entries);
  const slow = general(bytes, depth, entries);
  if (fast === DECLINED) {
    if (!slow.ok) expect(slow.code).toBe('DECODE_FAILED');
    return false;
  }
  expect(slow.ok, `general path failed on ${Buffer.from(bytes).toString('hex').slice(0, 200)} that the fast path accepted`).toBe(true);
  expect(isDeepStrictEqual(fast, slow.ok ? slow.value : undefined), `results differ for ${Buffer.from(bytes).toString('hex').slice(0, 200)}`).toBe(true);
  return true;
}

describe('fastDecode', () => {
  it('decodes random encoded data exactly as msgpackr + the hardening pass, and accepts most of it', () => {
    const rand = prng(0xae915);
    let accepted = 0;
    const total = 3_000;
    for (let i = 0; i < total; i++) if (agree(encode(randomValue(rand, 0)))) accepted++;
    expect(accepted).toBeGreaterThan(total / 3);
  });

  it('never disagrees on mutated, truncated or extended bytes', () => {
    const rand = prng(0x5eed);
    for (let i = 0; i < 6_000; i++) {
      const bytes = Uint8Array.from(encode(randomValue(rand, 0)));
      const mode = i % 4;
      if (mode === 0 && bytes.length > 0) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      if (mode === 1 && bytes.length > 0) {
        for (let k = 0; k < 3; k++) {
          const at = Math.floor(rand() * bytes.length);
          bytes[at] = (bytes[at] as number) ^ (1 << Math.floor(rand() * 8));
        }
      }
      const input = mode === 2 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : mode === 3 ? Uint8Array.from([...bytes, Math.floor(rand() * 256)]) : bytes;
      if (input.length > 0) agree(input);
    }
  });

  it('applies the depth and entry limits like the hardening pass', () => {
    for (const depth of [0, 1, 2, 3]) {
      agree(encode({ a: { b: { c: 1 } } }), depth);
      agree(encode([[[1]]]), depth);
    }
    for (const entries of [0, 1, 2, 3]) {
      agree(encode({ a: 1, b: 2 }), 32, entries);
      agree(encode([1, 2]), 32, entries);
    }
    expect(fastDecode(encode({ a: { b: 1 } }), 1, 10)).toBe(DECLINED);
  });

  it.each([
    ['a __proto__ key', Uint8Array.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0xc3])],
    ['an integer key', Uint8Array.from([0x81, 0x01, 0x01])],
    ['a duplicate key', Uint8Array.from([0x82, 0xa1, 0x61, 0x01, 0xa1, 0x61, 0x02])],
    ['invalid UTF-8 in a key', Uint8Array.from([0x81, 0xa2, 0xc3, 0x28, 0x01])],
    ['invalid UTF-8 in a long value', Uint8Array.from([0xa9, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0xed, 0xa0])],
    ['a CESU-8 surrogate', Uint8Array.from([0xa3, 0xed, 0xa0, 0x80])],
    ['a leading byte-order mark', Uint8Array.from([0xab, 0xef, 0xbb, 0xbf, ...Buffer.from('abcdefgh')])],
    ['float32', Uint8Array.from([0xca, 0x3f, 0xc0, 0x00, 0x00])],
    ['int8/16/32', Uint8Array.from([0x93, 0xd0, 0x80, 0xd1, 0x80, 0x00, 0xd2, 0x80, 0x00, 0x00, 0x00])],
    ['uint64', Uint8Array.from([0xcf, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['the undefined extension', Uint8Array.from([0x81, 0xa1, 0x61, 0xd4, 0x00, 0x00])],
    ['0xc1', Uint8Array.from([0xc1])],
    ['trailing bytes', Uint8Array.from([0x01, 0x02])],
    ['a map declaring more entries than it holds', Uint8Array.from([0xdf, 0x00, 0x01, 0x00, 0x00, 0xa1, 0x61, 0x01])],
    ['an array declaring more entries than it holds', Uint8Array.from([0xdd, 0x00, 0x01, 0x00, 0x00, 0x01])],
  ])('agrees with the general path on %s', (_name, bytes) => {
    agree(bytes);
  });

  it('keeps its own copy of a key: a source buffer changed later does not change what it matches', () => {
    // "xab" and "xbC" share a hash slot; the first is read from a buffer then overwritten.
    const bytes = Buffer.from(encode({ xab: 1 }));
    expect(Object.keys(fastDecode(bytes, 32, 10) as object)).toEqual(['xab']);
    bytes.set(Buffer.from('xbC'), 2);
    expect(Object.keys(fastDecode(encode({ xbC: 1 }), 32, 10) as object)).toEqual(['xbC']);
  });

  it('returns the same key string for the same bytes, and a new one for other bytes of the same hash slot', () => {
    const a = fastDecode(encode({ service_name: 1 }), 32, 10) as Record<string, unknown>;
    const b = fastDecode(encode({ service_namf: 1 }), 32, 10) as Record<string, unknown>;
    expect(Object.keys(a)).toEqual(['service_name']);
    expect(Object.keys(b)).toEqual(['service_namf']);
    expect(Object.getPrototypeOf(a)).toBeNull();
  });
});
