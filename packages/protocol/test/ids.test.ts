import { describe, expect, it } from 'vitest';
import { isTraceId, newTraceId, randomHex, randomHexInto } from '@aegis-ipc/protocol';

describe('random ids', () => {
  it('randomHexInto writes lowercase hex ASCII at the offset and returns the end', () => {
    const target = new Uint8Array(40).fill(0x2e);
    const end = randomHexInto(target, 3, 8);
    expect(end).toBe(19);
    const text = new TextDecoder().decode(target);
    expect(text.slice(0, 3)).toBe('...');
    expect(text.slice(3, 19)).toMatch(/^[0-9a-f]{16}$/);
    expect(text.slice(3, 19)).not.toBe('0'.repeat(16));
    expect(text.slice(19)).toBe('.'.repeat(21));
    // Fresh bytes each time, across pool refills (4 KiB / 8 bytes = 512 ids per refill).
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      randomHexInto(target, 0, 8);
      seen.add(new TextDecoder().decode(target.subarray(0, 16)));
    }
    expect(seen.size).toBe(2_000);
    expect(randomHex(16)).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('newTraceId', () => {
  it('is 32 lowercase hex, never all zero, fresh every time (also across pool refills)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const id = newTraceId();
      expect(isTraceId(id)).toBe(true);
      seen.add(id);
    }
    expect(seen.size).toBe(2_000);
  });
});
