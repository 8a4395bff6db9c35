import { describe, expect, it } from 'vitest';
import { HEADERS, NatsHeaderBlock, type InstanceRecord } from '@aegis-ipc/protocol';
import { AttemptHeaders } from '../../src/routing/attempt-headers.js';
import type { RouteInput } from '../../src/routing/route-input.js';

const td = new TextDecoder();
const record = (id: string): InstanceRecord => ({
  service_name: 'billing', instance_id: id, status: 'ONLINE', metadata: {}, session_id: 's', registered_at: '', updated_at: '', heartbeat_interval_ms: 1000,
});
const input = (over: Partial<RouteInput> = {}): RouteInput => ({
  serviceName: 'billing', method: 'charge', traceId: '0af7651916cd43dd8448eb211c80319c', traceIdGenerated: false, messageId: undefined, traceparent: undefined,
  timeoutMs: undefined, resourceId: undefined, hops: 0, path: '', data: new Uint8Array(0), receivedAt: 0, ...over,
});
const text = (h: unknown) => td.decode((h as NatsHeaderBlock).encode());
/** The block the general path writes, with the traceparent the fast path chose. */
const general = (i: RouteInput, id: string, attempt: number, timeoutMs: number, traceparent: string | undefined) => {
  const pairs = [HEADERS.hops, String(i.hops + 1), HEADERS.attempt, String(attempt), HEADERS.timeoutMs, String(timeoutMs), HEADERS.path, i.path === '' ? `billing:${id}` : `${i.path},billing:${id}`];
  if (traceparent !== undefined) pairs.push(HEADERS.traceparent, traceparent);
  if (i.traceIdGenerated) pairs.push(HEADERS.traceId, i.traceId);
  return td.decode(new NatsHeaderBlock(pairs).encode());
};
const traceparentOf = (block: string) => /traceparent: (\S+)\r\n/.exec(block)?.[1];

describe('AttemptHeaders', () => {
  it('writes a plain call the same bytes as the general path, with a fresh span id each time', () => {
    const headers = new AttemptHeaders();
    const inst = record('b-1');
    const first = text(headers.build(input(), inst, 1, 5000));
    const second = text(headers.build(input(), inst, 1, 5000));
    expect(traceparentOf(first)).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(traceparentOf(first)).not.toBe(traceparentOf(second));
    expect(first).toBe(general(input(), 'b-1', 1, 5000, traceparentOf(first)));
    // Cached prefix follows attempt, budget and instance.
    const third = text(headers.build(input(), inst, 2, 4321));
    expect(third).toBe(general(input(), 'b-1', 2, 4321, traceparentOf(third)));
    const other = text(headers.build(input(), record('b-2'), 1, 5000));
    expect(other).toBe(general(input(), 'b-2', 1, 5000, traceparentOf(other)));
  });

  it('propagates a caller traceparent, extends a path, names a generated trace id, skips a non-W3C one', () => {
    const headers = new AttemptHeaders();
    const inst = record('b-1');
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(text(headers.build(input({ traceparent: given }), inst, 1, 5000))).toBe(general(input(), 'b-1', 1, 5000, given));
    const nested = input({ path: 'front:f-1', hops: 1 });
    const block = text(headers.build(nested, inst, 1, 5000));
    expect(block).toBe(general(nested, 'b-1', 1, 5000, traceparentOf(block)));
    const generated = input({ traceIdGenerated: true });
    const withId = text(headers.build(generated, inst, 1, 5000));
    expect(withId).toBe(general(generated, 'b-1', 1, 5000, traceparentOf(withId)));
    expect(withId).toContain(`${HEADERS.traceId}: 0af7651916cd43dd8448eb211c80319c`);
    for (const traceId of ['order-7', '0AF7651916CD43DD8448EB211C80319C']) {
      expect(text(headers.build(input({ traceId }), inst, 1, 5000))).toBe(general(input({ traceId }), 'b-1', 1, 5000, undefined));
    }
  });
});
