import { describe, expect, it } from 'vitest';
import type { JsMsg } from '@nats-io/jetstream';
import { MsgImpl } from '@nats-io/nats-core/internal';
import { HEADERS, natsHeaderBlock } from '@aegis-ipc/protocol';
import { RELIABLE_HEADERS } from '../../src/reliable/reliable-headers.js';
import { readRequestHeaders } from '../../src/reliable/request-headers.js';

const te = new TextEncoder();

/** A JsMsg the way nats.js v3 builds one: a MsgImpl over header block + payload, wrapped. */
function jsMsg(pairs: readonly string[] | undefined, payload = new Uint8Array([0x80])): { fast: JsMsg; slow: JsMsg } {
  const block = pairs === undefined ? new Uint8Array(0) : natsHeaderBlock(pairs);
  const data = new Uint8Array(block.length + payload.length);
  data.set(block);
  data.set(payload, block.length);
  const impl = new MsgImpl({ subject: te.encode('ns.reliable.svc.m.id'), reply: te.encode(''), sid: 1, hdr: pairs === undefined ? -1 : block.length, size: data.length }, data, {} as never);
  // The fast path must not decode through MsgHdrs: its `headers` throws.
  const fast = { msg: impl, get headers(): never { throw new Error('decoded through MsgHdrs'); } } as unknown as JsMsg;
  const slow = { get headers() { return impl.headers; } } as unknown as JsMsg;
  return { fast, slow };
}

describe('readRequestHeaders', () => {
  it('reads the request headers from the raw block, as MsgHdrs would', () => {
    const pairs = [
      'Nats-Msg-Id', 'm1', HEADERS.messageId, 'm1', HEADERS.traceId, 't1', RELIABLE_HEADERS.createdAt, '2026-01-01T00:00:00.000Z',
      RELIABLE_HEADERS.maxDeliveries, '4', RELIABLE_HEADERS.expiresAt, '123', RELIABLE_HEADERS.ackTo, '_INBOX.x.1', RELIABLE_HEADERS.firstSend, '1',
      RELIABLE_HEADERS.replays, '2', 'traceparent', '00-abc-def-01',
    ];
    const { fast, slow } = jsMsg(pairs);
    const expected = { messageId: 'm1', traceId: 't1', createdAt: '2026-01-01T00:00:00.000Z', maxDeliveries: '4', expiresAt: '123', ackTo: '_INBOX.x.1', firstSend: '1', replays: '2' };
    expect(readRequestHeaders(fast)).toEqual(expected);
    expect(readRequestHeaders(slow)).toEqual(expected);
  });

  it('matches keys exactly, keeps the first of a repeated key and trims values', () => {
    const { fast, slow } = jsMsg([HEADERS.messageId.toLowerCase(), 'lower', HEADERS.messageId, ' a ', HEADERS.messageId, 'b']);
    expect(readRequestHeaders(fast).messageId).toBe('a');
    expect(readRequestHeaders(slow).messageId).toBe('a');
  });

  it('a message without headers reads as empty', () => {
    const { fast, slow } = jsMsg(undefined);
    expect(readRequestHeaders(fast).messageId).toBe('');
    expect(readRequestHeaders(slow).messageId).toBe('');
  });
});
