import { describe, expect, it, vi } from 'vitest';
import { AegisError, decode, encode } from '@aegis-ipc/protocol';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof AegisError ? err.code : `not an AegisError: ${String(err)}`;
  }
}

describe('codec', () => {
  it('round-trips plain data into null-prototype objects and drops undefined fields', () => {
    const value = decode(encode({ a: 1, nested: { list: [1, 'two', null, true] }, gone: undefined })) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBeNull();
    expect(Object.getPrototypeOf(value.nested)).toBeNull();
    expect({ ...value, nested: { ...(value.nested as object) } }).toEqual({ a: 1, nested: { list: [1, 'two', null, true] } });
    expect('gone' in value).toBe(false);
  });

  it.each([
    ['truncated data', encode({ a: 'hello world' }).subarray(0, 5)],
    ['array32 declaring 4 billion entries', Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['map32 declaring 4 billion entries', Uint8Array.from([0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61])],
    ['str32 declaring 4 GiB', Uint8Array.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61])],
    ['100,000 nested arrays', Uint8Array.from([...new Array<number>(100_000).fill(0x91), 0x01])],
    ['40 nested arrays (over the depth limit)', Uint8Array.from([...new Array<number>(40).fill(0x91), 0x01])],
    ['a __proto__ key', Uint8Array.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa1, 0x61, 0x01])],
    ['a constructor key', encode({ constructor: 1 })],
    ['an unknown extension type', Uint8Array.from([0xd4, 0x05, 0x01])],
    ['an integer map key', Uint8Array.from([0x81, 0x01, 0x01])],
    ['an empty payload', new Uint8Array(0)],
  ])('rejects %s with DECODE_FAILED', (_name, bytes) => {
    expect(codeOf(() => decode(bytes))).toBe('DECODE_FAILED');
  });

  it('rejects payloads over maxBytes with PAYLOAD_TOO_LARGE before decoding', () => {
    expect(codeOf(() => decode(encode({ blob: 'x'.repeat(2000) }), { maxBytes: 1000 }))).toBe('PAYLOAD_TOO_LARGE');
  });

  it('does not pollute Object.prototype', () => {
    try {
      decode(Uint8Array.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa8, ...Buffer.from('polluted'), 0xc3]));
    } catch {
      // expected
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('codec scratch buffer (inputs are unpacked from one reused buffer)', () => {
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
  const outcome = (bytes: Uint8Array): unknown => {
    try {
      return { value: decode(bytes) };
    } catch (err) {
      return { code: err instanceof AegisError ? err.code : 'not an AegisError' };
    }
  };
  /** Leaves `fill` in the scratch buffer (decoding it may fail; the copy happens first). */
  const dirty = (fill: number) => {
    try {
      decode(new Uint8Array(60_000).fill(fill));
    } catch {
      // expected: not MessagePack
    }
  };

  it('never reads what an earlier input left behind: truncated and mutated inputs decide alike whatever the buffer holds', () => {
    const rand = prng(0xc0dec);
    const samples = [
      { a: 1, text: 'x'.repeat(300), nested: { list: [1, 2.5, 'three', null, true], bin: Uint8Array.from([1, 2, 3]) } },
      { service_name: 'billing', method: 'charge', params: { amount: 12.5 }, trace_id: 'a'.repeat(32) },
      ['é'.repeat(40), -1, 2 ** 40, { k: 'v' }],
    ];
    for (let i = 0; i < 3_000; i++) {
      const bytes = Uint8Array.from(encode(samples[i % samples.length]));
      if (i % 2 === 0) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      const input = bytes.subarray(0, 1 + Math.floor(rand() * bytes.length));
      dirty(0x00);
      const first = outcome(input);
      dirty(0xff);
      const second = outcome(input);
      dirty(0xa5);
      expect(outcome(input)).toEqual(first);
      expect(second).toEqual(first);
    }
  });

  it('returns byte strings as copies, not views of the input', () => {
    const bytes = Uint8Array.from(encode({ bin: Uint8Array.from([7, 8, 9]) }));
    const value = decode(bytes) as { bin: Uint8Array };
    bytes.fill(0);
    expect([...value.bin]).toEqual([7, 8, 9]);
  });

  it('decodes inputs larger than the scratch buffer directly', () => {
    const big = 'y'.repeat(100_000);
    expect((decode(encode({ big })) as { big: string }).big).toBe(big);
  });
});

describe('decoded objects', () => {
  it('have a null prototype whatever their size, and an inherited setter never sees their keys', () => {
    const setter = vi.fn();
    Object.defineProperty(Object.prototype, 'trap', { set: setter, configurable: true });
    try {
      for (const size of [0, 1, 64, 65, 200]) {
        const source: Record<string, number> = { trap: 1 };
        for (let i = 0; i < size; i++) source[`k${i}`] = i;
        const value = decode(encode(source)) as Record<string, unknown>;
        expect(Object.getPrototypeOf(value)).toBeNull();
        expect(Object.keys(value)).toEqual(Object.keys(source));
        expect(value.trap).toBe(1);
      }
      expect(setter).not.toHaveBeenCalled();
    } finally {
      delete (Object.prototype as Record<string, unknown>).trap;
    }
  });
});
