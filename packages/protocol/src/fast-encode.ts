/**
 * MessagePack writer for plain data — null, booleans, numbers, strings, arrays and plain or
 * null-prototype objects (undefined values skipped) — that writes the very bytes the codec's
 * msgpackr `Packr` writes for the same value, without its per-call set-up (structure and bundle
 * bookkeeping, a `try/finally`, a key array per object). It *declines* (returns undefined)
 * anything else — dates, byte arrays, maps, sets, class instances, bigints, `undefined` outside an
 * object value, an own `toJSON` or `constructor` key, deep nesting — and the caller packs that
 * value with msgpackr instead. A unit test compares the bytes of both on random data.
 *
 * Why: a call encodes two small maps (the caller's request and the instance's `{ result }`), and
 * msgpackr's fixed cost per `pack()` was most of that work (ADR 0031 round 5).
 */

/** Nesting beyond this is left to msgpackr (which has no limit of its own). */
const MAX_DEPTH = 64;
/** Size of a new output slab; results are views into it, so earlier ones stay valid. */
const SLAB_BYTES = 64 * 1024;

type Slab = Uint8Array & { utf8Write?: (s: string, offset: number, length: number) => number };
interface BufferStatics {
  allocUnsafeSlow(size: number): Slab;
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): Uint8Array;
}
const BufferClass = (globalThis as { Buffer?: BufferStatics }).Buffer;
const allocate = (size: number): Slab => (BufferClass === undefined ? new Uint8Array(size) : BufferClass.allocUnsafeSlow(size));
/**
 * A Buffer (as msgpackr returns) over the slab's bytes: `Buffer.from(arrayBuffer, offset, length)`
 * costs half of `buffer.subarray()`. A slab from `allocUnsafeSlow` owns its ArrayBuffer from 0.
 */
const view = (slab: Uint8Array, from: number, to: number): Uint8Array => (BufferClass === undefined ? slab.subarray(from, to) : BufferClass.from(slab.buffer, from, to - from));
const textEncoder = new TextEncoder();

let target: Slab = allocate(SLAB_BYTES);
let start = 0;
let pos = 0;
const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
/** Whether the platform stores a float64's most significant byte last (msgpack wants it first). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The msgpackr encoding of `value`, or undefined when `value` holds anything but plain data.
 * The result is a view into a shared slab that is never written again.
 */
export function fastEncode(value: unknown): Uint8Array | undefined {
  start = pos;
  if (!write(value, 0)) {
    pos = start;
    return undefined;
  }
  return view(target, start, pos);
}

/** Makes room for `bytes` more bytes, moving this encoding's bytes so far to a new slab if needed. */
function room(bytes: number): void {
  if (pos + bytes <= target.length) return;
  const used = pos - start;
  const next = allocate(Math.max(SLAB_BYTES, (used + bytes) * 2));
  next.set(target.subarray(start, pos));
  target = next;
  start = 0;
  pos = used;
}

function write(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      writeString(value);
      return true;
    case 'number':
      writeNumber(value);
      return true;
    case 'boolean':
      room(1);
      target[pos++] = value ? 0xc3 : 0xc2;
      return true;
    case 'object':
      if (value === null) {
        room(1);
        target[pos++] = 0xc0;
        return true;
      }
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(value)) return (value as { constructor?: unknown }).constructor === Array && writeArray(value, depth);
      return writeObject(value as Record<string, unknown>, depth);
    default:
      return false;
  }
}

function writeArray(list: unknown[], depth: number): boolean {
  const length = list.length;
  room(5);
  if (length < 0x10) target[pos++] = 0x90 | length;
  else if (length < 0x10000) {
    target[pos++] = 0xdc;
    target[pos++] = length >> 8;
    target[pos++] = length & 0xff;
  } else {
    target[pos++] = 0xdd;
    writeU32(length);
  }
  // An undefined element (also a hole) is msgpackr's own extension: declined.
  for (let i = 0; i < length; i++) if (list[i] === undefined || !write(list[i], depth + 1)) return false;
  return true;
}

function writeObject(object: Record<string, unknown>, depth: number): boolean {
  const proto = Object.getPrototypeOf(object) as unknown;
  // msgpackr calls a null-prototype object's own toJSON, and tells classes apart by `constructor`.
  if (proto === null ? 'toJSON' in object : proto !== Object.prototype || Object.hasOwn(object, 'constructor')) return false;
  // Own enumerable string keys in for-in order (what msgpackr's for-in + hasOwnProperty yields),
  // and their values read once: two builtin calls instead of two keyed loads per entry.
  const keys = Object.keys(object);
  const values = Object.values(object);
  if (values.length !== keys.length) return false;
  let size = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== undefined) size++;
  room(5);
  if (size < 0x10) target[pos++] = 0x80 | size;
  else if (size < 0x10000) {
    target[pos++] = 0xde;
    target[pos++] = size >> 8;
    target[pos++] = size & 0xff;
  } else {
    target[pos++] = 0xdf;
    writeU32(size);
  }
  for (let i = 0; i < values.length; i++) {
    const entry = values[i];
    if (entry === undefined) continue;
    writeKey(keys[i] as string);
    if (!write(entry, depth + 1)) return false;
  }
  return true;
}

/** Encoded keys (header included) of recent maps: the same keys come back message after message. */
const keyCache = new Map<string, Uint8Array>();
const KEY_CACHE_ENTRIES = 512;
const KEY_CACHE_MAX_LENGTH = 32;

function writeKey(key: string): void {
  const known = keyCache.get(key);
  if (known !== undefined) {
    room(known.length);
    for (let i = 0; i < known.length; i++) target[pos++] = known[i] as number;
    return;
  }
  // Relative to this encoding's start: writeString may move it to a new slab.
  const offset = pos - start;
  writeString(key);
  // Bounded, so peers choosing keys cannot grow it: once full, it stays as it is.
  if (key.length <= KEY_CACHE_MAX_LENGTH && keyCache.size < KEY_CACHE_ENTRIES) keyCache.set(key, copyOf(target, start + offset, pos));
}

/** A copy (a Buffer's own `slice()` would return a view of the slab). */
function copyOf(bytes: Uint8Array, from: number, to: number): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, from, to);
}

function writeU32(n: number): void {
  target[pos++] = n >>> 24;
  target[pos++] = (n >>> 16) & 0xff;
  target[pos++] = (n >>> 8) & 0xff;
  target[pos++] = n & 0xff;
}

function writeNumber(value: number): void {
  room(9);
  if (value >>> 0 === value) {
    if (value < 0x80) target[pos++] = value;
    else if (value < 0x100) {
      target[pos++] = 0xcc;
      target[pos++] = value;
    } else if (value < 0x10000) {
      target[pos++] = 0xcd;
      target[pos++] = value >> 8;
      target[pos++] = value & 0xff;
    } else {
      target[pos++] = 0xce;
      writeU32(value);
    }
  } else if (value >> 0 === value) {
    if (value >= -0x20) target[pos++] = 0x100 + value;
    else if (value >= -0x80) {
      target[pos++] = 0xd0;
      target[pos++] = value + 0x100;
    } else if (value >= -0x8000) {
      target[pos++] = 0xd1;
      target[pos++] = (value >> 8) & 0xff;
      target[pos++] = value & 0xff;
    } else {
      target[pos++] = 0xd2;
      writeU32(value >>> 0);
    }
  } else {
    target[pos++] = 0xcb;
    float64[0] = value;
    if (LITTLE_ENDIAN) for (let i = 7; i >= 0; i--) target[pos++] = float64Bytes[i] as number;
    else for (let i = 0; i < 8; i++) target[pos++] = float64Bytes[i] as number;
  }
}

/**
 * As msgpackr: strings under 64 UTF-16 units are encoded in JS (a lone surrogate as its own
 * three bytes), longer ones by Node's `utf8Write` (a lone surrogate as U+FFFD); the header is
 * the smallest for the byte length.
 */
function writeString(value: string): void {
  const length = value.length;
  room(length * 3 + 5);
  const headerSize = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  const at = pos + headerSize;
  let bytes: number;
  // Below 64 units msgpackr encodes in JS, which differs from utf8Write only for a lone
  // surrogate; a well-formed string takes the native path from 16 units on.
  if (length < 0x40) {
    const t = target;
    let p = at;
    for (let i = 0; i < length; i++) {
      let c = value.charCodeAt(i);
      if (c < 0x80) t[p++] = c;
      else if (c < 0x800) {
        t[p++] = (c >> 6) | 0xc0;
        t[p++] = (c & 0x3f) | 0x80;
      } else if ((c & 0xfc00) === 0xd800 && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c & 0x03ff) << 10) + (value.charCodeAt(++i) & 0x03ff);
        t[p++] = (c >> 18) | 0xf0;
        t[p++] = ((c >> 12) & 0x3f) | 0x80;
        t[p++] = ((c >> 6) & 0x3f) | 0x80;
        t[p++] = (c & 0x3f) | 0x80;
      } else {
        t[p++] = (c >> 12) | 0xe0;
        t[p++] = ((c >> 6) & 0x3f) | 0x80;
        t[p++] = (c & 0x3f) | 0x80;
      }
    }
    bytes = p - at;
  } else {
    bytes = target.utf8Write === undefined ? textEncoder.encodeInto(value, target.subarray(at)).written : target.utf8Write(value, at, target.length - at);
  }
  const needed = bytes < 0x20 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5;
  if (needed !== headerSize) target.copyWithin(pos + needed, at, at + bytes);
  if (needed === 1) target[pos++] = 0xa0 | bytes;
  else if (needed === 2) {
    target[pos++] = 0xd9;
    target[pos++] = bytes;
  } else if (needed === 3) {
    target[pos++] = 0xda;
    target[pos++] = bytes >> 8;
    target[pos++] = bytes & 0xff;
  } else {
    target[pos++] = 0xdb;
    writeU32(bytes);
  }
  pos += bytes;
}
