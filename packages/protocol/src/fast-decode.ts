/**
 * A strict, allocation-light MessagePack reader for the common case — nil, booleans, 8–32-bit
 * integers, floats, strings, arrays and maps with string keys — that builds the same plain data
 * as {@link decode}'s msgpackr + hardening pass (null-prototype objects, the same nesting and
 * entry limits) in one walk. It *declines* (returns {@link DECLINED}) anything else: 64-bit
 * integers, binary, extension types, a non-string or forbidden key, a string that is not valid
 * UTF-8 or starts with a byte-order mark, a limit reached, truncated data, trailing bytes. The
 * caller then takes the general path, so every declined input gets exactly the result or the
 * error it always had; a differential test checks both paths agree on what this one accepts.
 *
 * Why: msgpackr builds `Map`s that the hardening pass copies into objects again, creates a
 * `DataView` per source buffer (every NATS message is a fresh one), and calls into its native
 * string extractor for the first string; for a call's small bodies that fixed cost was most of a
 * decode (ADR 0031 round 5).
 */

/** What {@link fastDecode} returns when the general path must decide. */
export const DECLINED: unique symbol = Symbol('declined');

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Strings shorter than this are built in JS (ASCII only); longer ones natively. */
const SHORT_STRING = 8;
/** Node's UTF-8 slice, ~2× faster than TextDecoder for short strings (undefined outside Node). */
const utf8Slice = (globalThis as { Buffer?: { prototype: { utf8Slice?: (this: Uint8Array, start: number, end: number) => string } } }).Buffer?.prototype.utf8Slice;

let src: Uint8Array = new Uint8Array(0);
let pos = 0;
let end = 0;
let declined = false;
let maxDepth = 0;
let maxEntries = 0;

/**
 * Decodes `bytes` when it holds exactly one value of the common kinds, else {@link DECLINED}.
 * Limits are those of `decode()`: a map or array at depth ≥ `depthLimit` or with more than
 * `entryLimit` entries is declined.
 */
export function fastDecode(bytes: Uint8Array, depthLimit: number, entryLimit: number): unknown {
  src = bytes;
  pos = 0;
  end = bytes.length;
  declined = false;
  maxDepth = depthLimit;
  maxEntries = entryLimit;
  const value = read(0);
  const ok = !declined && pos === end;
  src = EMPTY;
  return ok ? value : DECLINED;
}

const EMPTY = new Uint8Array(0);

function decline(): undefined {
  declined = true;
  pos = end;
  return undefined;
}

function read(depth: number): unknown {
  if (pos >= end) return decline();
  const b = src[pos++] as number;
  if (b < 0x80) return b;
  if (b < 0x90) return readMap(b & 0x0f, depth);
  if (b < 0xa0) return readArray(b & 0x0f, depth);
  if (b < 0xc0) return readString(b & 0x1f);
  if (b >= 0xe0) return b - 0x100;
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xca:
      return pos + 4 > end ? decline() : float(4);
    case 0xcb:
      return pos + 8 > end ? decline() : float(8);
    case 0xcc:
      return pos + 1 > end ? decline() : src[pos++];
    case 0xcd:
      return pos + 2 > end ? decline() : u16();
    case 0xce:
      return pos + 4 > end ? decline() : u32();
    case 0xd0:
      return pos + 1 > end ? decline() : ((src[pos++] as number) << 24) >> 24;
    case 0xd1:
      return pos + 2 > end ? decline() : (u16() << 16) >> 16;
    case 0xd2:
      return pos + 4 > end ? decline() : u32() | 0;
    case 0xd9:
      return pos + 1 > end ? decline() : readString(src[pos++] as number);
    case 0xda:
      return pos + 2 > end ? decline() : readString(u16());
    case 0xdb:
      return pos + 4 > end ? decline() : readString(u32());
    case 0xdc:
      return pos + 2 > end ? decline() : readArray(u16(), depth);
    case 0xdd:
      return pos + 4 > end ? decline() : readArray(u32(), depth);
    case 0xde:
      return pos + 2 > end ? decline() : readMap(u16(), depth);
    case 0xdf:
      return pos + 4 > end ? decline() : readMap(u32(), depth);
    default:
      // 0xc1, binary, extensions, 64-bit integers: the general path's business.
      return decline();
  }
}

function u16(): number {
  const v = ((src[pos] as number) << 8) | (src[pos + 1] as number);
  pos += 2;
  return v;
}

function u32(): number {
  const v = (src[pos] as number) * 0x1000000 + (((src[pos + 1] as number) << 16) | ((src[pos + 2] as number) << 8) | (src[pos + 3] as number));
  pos += 4;
  return v;
}

/** Floats are copied into this scratch view: no DataView per message, nothing kept of it. */
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);
function float(bytes: 4 | 8): number {
  for (let i = 0; i < bytes; i++) scratch[i] = src[pos + i] as number;
  pos += bytes;
  return bytes === 4 ? scratchView.getFloat32(0) : scratchView.getFloat64(0);
}

function readMap(size: number, depth: number): unknown {
  if (depth >= maxDepth || size > maxEntries) return decline();
  const out = Object.create(null) as Record<string, unknown>;
  for (let i = 0; i < size && !declined; i++) {
    const key = readKey();
    if (key === undefined) return decline();
    out[key] = read(depth + 1);
  }
  return out;
}

function readKey(): string | undefined {
  if (pos >= end) return undefined;
  const b = src[pos++] as number;
  let len: number;
  if (b >= 0xa0 && b < 0xc0) len = b & 0x1f;
  else if (b === 0xd9 && pos < end) len = src[pos++] as number;
  else if (b === 0xda && pos + 2 <= end) len = u16();
  else return undefined;
  if (len > KEY_CACHE_MAX_LEN) {
    const key = readString(len);
    return typeof key === 'string' && !FORBIDDEN_KEYS.has(key) ? key : undefined;
  }
  return cachedKey(len);
}

/**
 * Map keys repeat from message to message; the same string object is returned for the same
 * bytes, so property stores find an internalized key instead of hashing a fresh string each time.
 */
const KEY_CACHE_MAX_LEN = 32;
const KEY_CACHE_SIZE = 256;
const keyBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(KEY_CACHE_SIZE).fill(undefined);
const keyStrings: Array<string | undefined> = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);

function cachedKey(len: number): string | undefined {
  const start = pos;
  const stop = start + len;
  if (stop > end) return undefined;
  let h = len;
  for (let i = start; i < stop; i++) h = (h * 31 + (src[i] as number)) | 0;
  const slot = h & (KEY_CACHE_SIZE - 1);
  const known = keyBytes[slot];
  if (known !== undefined && known.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (known[i] !== src[start + i]) {
        same = false;
        break;
      }
    }
    if (same) {
      pos = stop;
      return keyStrings[slot];
    }
  }
  const key = readString(len);
  if (typeof key !== 'string' || FORBIDDEN_KEYS.has(key)) return undefined;
  // A copy: a Buffer's own slice() is a view, which would keep (and follow) the message's memory.
  keyBytes[slot] = Uint8Array.prototype.slice.call(src, start, stop);
  keyStrings[slot] = key;
  return key;
}

function readArray(size: number, depth: number): unknown {
  if (depth >= maxDepth || size > maxEntries || size > end - pos) return decline();
  const out = new Array<unknown>(size);
  for (let i = 0; i < size && !declined; i++) out[i] = read(depth + 1);
  return out;
}

function readString(len: number, native = false): string | undefined {
  const start = pos;
  const stop = start + len;
  if (stop > end) return decline();
  let s: string;
  if (len < SHORT_STRING && !native) {
    s = '';
    for (let i = start; i < stop; i++) {
      const c = src[i] as number;
      if (c >= 0x80) return readString(len, true);
      s += String.fromCharCode(c);
    }
  } else {
    s = utf8Slice === undefined ? decodeStrict(start, stop) : (utf8Slice.call(src, start, stop));
    // Invalid UTF-8 became U+FFFD, and msgpackr's string paths treat a leading byte-order mark
    // differently from one another: both are left to the general path.
    if (s.charCodeAt(0) === 0xfeff || s.includes('\ufffd')) return decline();
  }
  pos = stop;
  return s;
}

function decodeStrict(start: number, stop: number): string {
  try {
    return utf8.decode(src.subarray(start, stop));
  } catch {
    return '\ufffd';
  }
}
