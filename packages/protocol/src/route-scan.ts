/**
 * Reads the routing fields of a routed request (`service_name`, `method`, `timeout`, `trace_id`,
 * `resource_id`, `message_id`) straight from the MessagePack bytes, stepping over `params`
 * without decoding it. The router needs only these fields and forwards the bytes unchanged, so
 * decoding a 1 KiB params map into objects would be pure waste on the hot path.
 *
 * Deliberately strict: anything unusual — an unknown or repeated key, a value of an unexpected
 * type, a name that breaks the token rules, trailing bytes — returns `undefined`, and the caller
 * falls back to the full hardened `decode()` + schema check, which explains precisely what is wrong.
 */
import { MAX_NAME_LENGTH } from './names.js';
import { MAX_ROUTE_TIMEOUT_S } from './schemas/route-request.js';

/** Longest trace or message id (the schema's TraceId and MessageId). */
const MAX_ID_LENGTH = 64;

/** The routing fields of a valid routed request. */
export interface ScannedRouteRequest {
  readonly service_name: string;
  readonly method: string;
  readonly timeout: number | undefined;
  readonly trace_id: string | undefined;
  readonly resource_id: string | undefined;
  readonly message_id: string | undefined;
  /** Where the params map starts and ends in the scanned bytes (both -1 without params). */
  readonly params_start: number;
  readonly params_end: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The keys of a routed request, matched as bytes (no string built per key). */
const KEYS = ['service_name', 'method', 'params', 'timeout', 'trace_id', 'resource_id', 'message_id'] as const;
const KEY_BYTES = KEYS.map((k) => Uint8Array.from(k, (c) => c.charCodeAt(0)));
const K_SERVICE = 0;
const K_METHOD = 1;
const K_PARAMS = 2;
const K_TIMEOUT = 3;
const K_TRACE_ID = 4;
const K_RESOURCE_ID = 5;
const K_MESSAGE_ID = 6;

/** 1 for the bytes of `[A-Za-z0-9_-]` (the token rule of names.ts and of trace and message ids). */
const TOKEN_BYTE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') TOKEN_BYTE[c.charCodeAt(0)] = 1;

// Scanner state at module level: the scan is synchronous and never re-entered, and closures
// created per call (with their allocation, and tsx's name-keeping wrappers) cost more than the
// scan itself.
let buf: Uint8Array = new Uint8Array(0);
let pos = 0;
let len = 0;

function u8(): number {
  return pos < len ? (buf[pos++] as number) : -1;
}

function uint(size: number): number {
  if (pos + size > len) return -1;
  let n = 0;
  for (let i = 0; i < size; i++) n = n * 256 + (buf[pos++] as number);
  return n;
}

/** Length of the string whose header is at `pos` (header consumed), or -1 when not a string. */
function strLength(): number {
  const t = u8();
  let n: number;
  if (t >= 0xa0 && t <= 0xbf) n = t & 0x1f;
  else if (t === 0xd9) n = uint(1);
  else if (t === 0xda) n = uint(2);
  else return -1;
  return n < 0 || pos + n > len ? -1 : n;
}

/** Index in KEYS of the key at `pos`, or -1 for anything else. */
function key(): number {
  const n = strLength();
  if (n < 0) return -1;
  for (let k = 0; k < KEY_BYTES.length; k++) {
    const expected = KEY_BYTES[k] as Uint8Array;
    if (expected.length !== n) continue;
    let i = 0;
    while (i < n && buf[pos + i] === expected[i]) i++;
    if (i === n) {
      pos += n;
      return k;
    }
  }
  return -1;
}

/**
 * The last token read for one field. A router and an instance see the same service and method
 * names call after call: comparing the bytes with the last ones (already checked) replaces
 * checking them again and building the string (ADR 0031 round 4). One entry per field, so a
 * caller cannot grow it.
 */
class LastToken {
  readonly bytes = new Uint8Array(MAX_NAME_LENGTH);
  n = 0;
  value = '';
}
const lastService = new LastToken();
const lastMethod = new LastToken();

/** A token string of 1…`max` characters of `[A-Za-z0-9_-]`, or `undefined`. */
function token(max: number, last?: LastToken): string | undefined {
  const n = strLength();
  if (n < 1 || n > max) return undefined;
  const end = pos + n;
  if (last !== undefined && last.n === n) {
    let i = 0;
    while (i < n && buf[pos + i] === last.bytes[i]) i++;
    if (i === n) {
      pos = end;
      return last.value;
    }
  }
  for (let i = pos; i < end; i++) if (TOKEN_BYTE[buf[i] as number] === 0) return undefined;
  // ASCII only (checked above): one flat string from the char codes. TextDecoder('latin1') cost
  // more per call in its own bookkeeping than the copy (~560 vs ~300 ns for 32 bytes).
  const out = n <= 8 ? shortString(pos, end) : String.fromCharCode.apply(null, buf.subarray(pos, end) as unknown as number[]);
  if (last !== undefined && n <= last.bytes.length) {
    last.bytes.set(buf.subarray(pos, end));
    last.n = n;
    last.value = out;
  }
  pos = end;
  return out;
}

function shortString(from: number, end: number): string {
  let out = '';
  for (let i = from; i < end; i++) out += String.fromCharCode(buf[i] as number);
  return out;
}

/** Any UTF-8 string, or `undefined` (not a string, or invalid UTF-8). */
function str(): string | undefined {
  const n = strLength();
  if (n < 0) return undefined;
  const end = pos + n;
  let out = '';
  for (let i = pos; i < end; i++) {
    const c = buf[i] as number;
    if (c >= 0x80) {
      try {
        out = utf8.decode(buf.subarray(pos, end));
      } catch {
        return undefined;
      }
      break;
    }
    out += String.fromCharCode(c);
  }
  pos = end;
  return out;
}

function num(): number | undefined {
  const t = u8();
  if (t >= 0 && t <= 0x7f) return t;
  if (t === 0xcc) return uint(1);
  if (t === 0xcd) return uint(2);
  if (t === 0xce) return uint(4);
  if (t === 0xca || t === 0xcb) {
    const size = t === 0xca ? 4 : 8;
    if (pos + size > len) return undefined;
    const view = new DataView(buf.buffer, buf.byteOffset + pos, size);
    pos += size;
    return size === 4 ? view.getFloat32(0) : view.getFloat64(0);
  }
  return undefined;
}

/** The routing fields of `bytes`, or `undefined` when the fast path does not apply (see above). */
export function scanRouteRequest(bytes: Uint8Array): ScannedRouteRequest | undefined {
  buf = bytes;
  pos = 0;
  len = bytes.length;
  try {
    return scan();
  } finally {
    buf = EMPTY; // do not keep the last message alive
  }
}

const EMPTY = new Uint8Array(0);

function scan(): ScannedRouteRequest | undefined {
  const head = u8();
  let entries: number;
  if (head >= 0x80 && head <= 0x8f) entries = head & 0x0f;
  else if (head === 0xde) entries = uint(2);
  else return undefined;
  if (entries < 2 || entries > 7) return undefined;

  let service: string | undefined;
  let method: string | undefined;
  let timeout: number | undefined;
  let traceId: string | undefined;
  let resourceId: string | undefined;
  let messageId: string | undefined;
  let params = false;
  let paramsStart = -1;
  let paramsEnd = -1;
  for (let e = 0; e < entries; e++) {
    switch (key()) {
      case K_SERVICE:
        if (service !== undefined || (service = token(MAX_NAME_LENGTH, lastService)) === undefined) return undefined;
        break;
      case K_METHOD:
        if (method !== undefined || (method = token(MAX_NAME_LENGTH, lastMethod)) === undefined) return undefined;
        break;
      case K_PARAMS: {
        if (params) return undefined;
        params = true;
        const t = buf[pos];
        // params must be a map (the schema's JsonObject); step over it whole
        if (t === undefined || !((t >= 0x80 && t <= 0x8f) || t === 0xde || t === 0xdf)) return undefined;
        const end = skipValue(buf, pos);
        if (end < 0) return undefined;
        paramsStart = pos;
        paramsEnd = pos = end;
        break;
      }
      case K_TIMEOUT:
        if (timeout !== undefined || (timeout = num()) === undefined || !(timeout > 0 && timeout <= MAX_ROUTE_TIMEOUT_S)) return undefined;
        break;
      case K_TRACE_ID:
        if (traceId !== undefined || (traceId = token(MAX_ID_LENGTH)) === undefined) return undefined;
        break;
      case K_RESOURCE_ID:
        if (resourceId !== undefined || (resourceId = str()) === undefined || resourceId.length === 0 || resourceId.length > 256) return undefined;
        break;
      case K_MESSAGE_ID:
        if (messageId !== undefined || (messageId = token(MAX_ID_LENGTH)) === undefined) return undefined;
        break;
      default:
        return undefined;
    }
  }
  if (pos !== len || service === undefined || method === undefined) return undefined;
  return { service_name: service, method, timeout, trace_id: traceId, resource_id: resourceId, message_id: messageId, params_start: paramsStart, params_end: paramsEnd };
}

/** Byte `i` of `b`, NaN past the end (so a length read beyond the end poisons the result). */
function at(b: Uint8Array, i: number): number {
  return i < b.length ? (b[i] as number) : NaN;
}

/**
 * The offset just past the MessagePack value starting at `start`, or -1 when the bytes end
 * early or hold the reserved byte 0xc1. Iterative (a count of values still to step over), so a
 * deeply nested value cannot overflow the stack; the instance's decoder enforces depth limits.
 */
export function skipValue(bytes: Uint8Array, start: number): number {
  const len = bytes.length;
  let pos = start;
  let pending = 1;
  while (pending > 0) {
    if (pos >= len) return -1;
    const t = bytes[pos++] as number;
    pending--;
    let n = 0;
    if (t <= 0x7f || t >= 0xe0) continue; // fixint
    if (t <= 0x8f) pending += (t & 0x0f) * 2; // fixmap
    else if (t <= 0x9f) pending += t & 0x0f; // fixarray
    else if (t <= 0xbf) pos += t & 0x1f; // fixstr
    else {
      switch (t) {
        case 0xc0: case 0xc2: case 0xc3: break; // nil, false, true
        case 0xc4: case 0xd9: n = at(bytes, pos); pos += 1 + n; break; // bin8, str8
        case 0xc5: case 0xda: n = at(bytes, pos) * 256 + at(bytes, pos + 1); pos += 2 + n; break; // bin16, str16
        case 0xc6: case 0xdb: n = at(bytes, pos) * 16777216 + at(bytes, pos + 1) * 65536 + at(bytes, pos + 2) * 256 + at(bytes, pos + 3); pos += 4 + n; break; // bin32, str32
        case 0xc7: n = at(bytes, pos); pos += 2 + n; break; // ext8
        case 0xc8: n = at(bytes, pos) * 256 + at(bytes, pos + 1); pos += 3 + n; break; // ext16
        case 0xc9: n = at(bytes, pos) * 16777216 + at(bytes, pos + 1) * 65536 + at(bytes, pos + 2) * 256 + at(bytes, pos + 3); pos += 5 + n; break; // ext32
        case 0xca: pos += 4; break;
        case 0xcb: pos += 8; break;
        case 0xcc: case 0xd0: pos += 1; break;
        case 0xcd: case 0xd1: pos += 2; break;
        case 0xce: case 0xd2: pos += 4; break;
        case 0xcf: case 0xd3: pos += 8; break;
        case 0xd4: pos += 2; break; // fixext1
        case 0xd5: pos += 3; break;
        case 0xd6: pos += 5; break;
        case 0xd7: pos += 9; break;
        case 0xd8: pos += 17; break;
        case 0xdc: n = at(bytes, pos) * 256 + at(bytes, pos + 1); pos += 2; pending += n; break; // array16
        case 0xdd: n = at(bytes, pos) * 16777216 + at(bytes, pos + 1) * 65536 + at(bytes, pos + 2) * 256 + at(bytes, pos + 3); pos += 4; pending += n; break; // array32
        case 0xde: n = at(bytes, pos) * 256 + at(bytes, pos + 1); pos += 2; pending += n * 2; break; // map16
        case 0xdf: n = at(bytes, pos) * 16777216 + at(bytes, pos + 1) * 65536 + at(bytes, pos + 2) * 256 + at(bytes, pos + 3); pos += 4; pending += n * 2; break; // map32
        default: return -1; // 0xc1, never used
      }
      if (Number.isNaN(n)) return -1;
    }
    // every value still pending takes at least one byte
    if (!(pos <= len) || pending > len - pos) return -1;
  }
  return pos;
}
