import { describe, expect, it } from 'vitest';
import { decode, encode, routeRequest, scanRouteRequest, skipValue } from '@aegis-ipc/protocol';
import { Packr } from 'msgpackr';

const base = { service_name: 'billing', method: 'charge', params: { amount: 12.5, items: [1, 'two', { three: null }], blob: new Uint8Array(300), note: 'é'.repeat(70) }, timeout: 2.5, trace_id: 'a'.repeat(32) };

describe('scanRouteRequest', () => {
  it('reads the routing fields and steps over params', () => {
    const bytes = encode({ ...base, resource_id: 'order-7', message_id: 'm-1' });
    const scanned = scanRouteRequest(bytes);
    expect(scanned).toMatchObject({
      service_name: 'billing', method: 'charge', timeout: 2.5, trace_id: 'a'.repeat(32), resource_id: 'order-7', message_id: 'm-1',
    });
    // The params bytes alone decode to the params.
    expect(decode(bytes.subarray(scanned?.params_start, scanned?.params_end))).toEqual((decode(bytes) as { params: unknown }).params);
    expect(scanRouteRequest(encode({ method: 'm', service_name: 's' }))).toMatchObject({ params_start: -1, params_end: -1 });
    expect(scanRouteRequest(encode({ method: 'm', service_name: 's' }))).toMatchObject({ service_name: 's', method: 'm', timeout: undefined });
    expect(scanRouteRequest(encode({ service_name: 's', method: 'm', timeout: 16 }))?.timeout).toBe(16);
  });

  it('accepts exactly what the schema accepts, or declines (slow path decides)', () => {
    const cases: unknown[] = [
      base,
      { ...base, extra: 1 },
      { ...base, service_name: 'a.b' },
      { ...base, method: '' },
      { ...base, params: [1] },
      { ...base, params: null },
      { ...base, timeout: 0 },
      { ...base, timeout: 99_999 },
      { ...base, trace_id: 'bad id' },
      { service_name: 's' },
      { ...base, resource_id: '' },
      { ...base, service_name: 'café' },
      { ...base, method: 'x'.repeat(65) },
      { ...base, trace_id: 't'.repeat(65) },
      { ...base, message_id: 'm id' },
    ];
    for (const c of cases) {
      const scanned = scanRouteRequest(encode(c));
      if (scanned !== undefined) expect(routeRequest.check(c)).toBe(true);
    }
    expect(scanRouteRequest(encode(base))).toBeDefined();
  });

  it('declines truncated, trailing and hostile bytes without throwing', () => {
    const bytes = encode(base);
    for (let cut = 0; cut < bytes.length; cut += 7) expect(scanRouteRequest(bytes.subarray(0, cut))).toBeUndefined();
    expect(scanRouteRequest(new Uint8Array([...bytes, 0xc0]))).toBeUndefined();
    // a params map that declares 2^32-1 entries
    const hostile = new Uint8Array([0x83, 0xac, ...new TextEncoder().encode('service_name'), 0xa1, 0x73, 0xa6, ...new TextEncoder().encode('method'), 0xa1, 0x6d, 0xa6, ...new TextEncoder().encode('params'), 0xdf, 0xff, 0xff, 0xff, 0xff]);
    expect(scanRouteRequest(hostile)).toBeUndefined();
    expect(scanRouteRequest(new Uint8Array([0xc1]))).toBeUndefined();
    // duplicate key
    const dup = new Packr({ useRecords: false, variableMapSize: true });
    const twice = new Uint8Array([0x83, ...dup.pack('service_name'), ...dup.pack('s'), ...dup.pack('method'), ...dup.pack('m'), ...dup.pack('method'), ...dup.pack('n')]);
    expect(scanRouteRequest(twice)).toBeUndefined();
  });

  it('reads each name afresh when it differs from the last one (the last-name memo never answers for other bytes)', () => {
    const names = ['svc_aaaa1', 'svc_aaaa2', 'svc_aaaa1', 'a', 'svc_aaaa1'];
    for (const name of names) {
      expect(scanRouteRequest(encode({ ...base, service_name: name, method: `${name}_m` }))).toMatchObject({ service_name: name, method: `${name}_m` });
    }
    // Same length as the remembered name, one byte invalid: declined, not taken from the memo.
    expect(scanRouteRequest(encode({ ...base, service_name: 'svc aaaa1' }))).toBeUndefined();
    expect(scanRouteRequest(encode({ ...base, service_name: 'svc_aaaa1', method: 'svc_aaaa1_' }))).toMatchObject({ method: 'svc_aaaa1_' });
    // The longest name (64) is remembered and compared like any other.
    const longest = 'n'.repeat(64);
    for (let k = 0; k < 2; k++) expect(scanRouteRequest(encode({ ...base, service_name: longest }))?.service_name).toBe(longest);
    expect(scanRouteRequest(encode({ ...base, service_name: `${'n'.repeat(63)}o` }))?.service_name).toBe(`${'n'.repeat(63)}o`);
  });
});

describe('skipValue', () => {
  it('steps over every MessagePack type', () => {
    const values: unknown[] = [null, true, false, 0, -1, 127, 255, 65_535, 2 ** 31, -(2 ** 31), 2 ** 53 - 1, 1.5, 'x', 'y'.repeat(40), 'z'.repeat(300), 'w'.repeat(70_000), new Uint8Array(10), new Uint8Array(300), new Uint8Array(70_000), [], [1, [2, [3]]], Array.from({ length: 20 }, (_, i) => i), {}, { a: { b: { c: 1 } } }, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])), new Date(0)];
    for (const v of values) {
      const bytes = new Uint8Array([...encode(v), 0xc0]);
      expect(skipValue(bytes, 0)).toBe(bytes.length - 1);
    }
  });
});
