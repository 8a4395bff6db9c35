import { describe, expect, it } from 'vitest';
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
