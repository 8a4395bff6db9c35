/**
 * The headers a reliable delivery reads, in one pass over the header block.
 *
 * `JsMsg.headers` decodes the block into a `MsgHdrs` (per header: key canonicalisation, a scan of
 * the keys so far, a value regex) and each `get()` scans the keys again — about 5 µs for the nine
 * headers of a request, per delivery. The block is plain `Key: value` lines, so it is read here
 * straight from the message's bytes when nats.js exposes them (`MsgImpl._rdata` up to `_msg.hdr`,
 * nats.js v3), else through `msg.headers`. Keys match exactly, as `MsgHdrs.get()` does, and the
 * first value of a repeated key wins; values are trimmed like nats.js does.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { HEADERS } from '@aegis-ipc/protocol';
import { RELIABLE_HEADERS } from './reliable-headers.js';

export interface RequestHeaders {
  messageId: string;
  traceId: string;
  maxDeliveries: string;
  createdAt: string;
  replays: string;
  expiresAt: string;
  firstSend: string;
  ackTo: string;
}

const td = new TextDecoder();

/** The raw header block of `msg`, when this nats.js keeps it where v3 does. */
function rawHeaderBlock(msg: JsMsg): Uint8Array | undefined {
  const inner = (msg as unknown as { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } }).msg;
  const data = inner?._rdata;
  const hdr = inner?._msg?.hdr;
  if (!(data instanceof Uint8Array) || typeof hdr !== 'number' || hdr > data.length) return undefined;
  return hdr > 0 ? data.subarray(0, hdr) : new Uint8Array(0);
}

export function readRequestHeaders(msg: JsMsg): RequestHeaders {
  const out: RequestHeaders = { messageId: '', traceId: '', maxDeliveries: '', createdAt: '', replays: '', expiresAt: '', firstSend: '', ackTo: '' };
  const raw = rawHeaderBlock(msg);
  if (raw !== undefined) {
    if (raw.length === 0) return out;
    const text = td.decode(raw);
    // Line 0 is `NATS/1.0[ status]`; then `Key: value` lines up to an empty line.
    let at = text.indexOf('\r\n');
    while (at !== -1) {
      const start = at + 2;
      const end = text.indexOf('\r\n', start);
      if (end === -1 || end === start) break;
      const colon = text.indexOf(':', start);
      if (colon !== -1 && colon < end) assign(out, text.slice(start, colon), text.slice(colon + 1, end).trim());
      at = end;
    }
    return out;
  }
  const headers = msg.headers;
  if (headers === undefined) return out;
  for (const [key, values] of headers as unknown as Iterable<[string, string[]]>) assign(out, key, values[0] ?? '');
  return out;
}

function assign(out: RequestHeaders, key: string, value: string): void {
  switch (key) {
    case HEADERS.messageId: if (out.messageId === '') out.messageId = value; break;
    case HEADERS.traceId: if (out.traceId === '') out.traceId = value; break;
    case RELIABLE_HEADERS.maxDeliveries: if (out.maxDeliveries === '') out.maxDeliveries = value; break;
    case RELIABLE_HEADERS.createdAt: if (out.createdAt === '') out.createdAt = value; break;
    case RELIABLE_HEADERS.replays: if (out.replays === '') out.replays = value; break;
    case RELIABLE_HEADERS.expiresAt: if (out.expiresAt === '') out.expiresAt = value; break;
    case RELIABLE_HEADERS.firstSend: if (out.firstSend === '') out.firstSend = value; break;
    case RELIABLE_HEADERS.ackTo: if (out.ackTo === '') out.ackTo = value; break;
  }
}
