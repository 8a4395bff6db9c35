/**
 * The MessagePack codec of the protocol (msgpackr), hardened for input from untrusted peers.
 *
 * Decoding goes through `Map`s (`mapsAsObjects: false`) and rebuilds plain objects itself so it
 * can enforce what msgpackr does not: a nesting limit, string-only keys, no `__proto__` /
 * `constructor` / `prototype` keys, and null-prototype objects (no prototype pollution, no
 * inherited `toString` confusion). Every failure is an `AegisError` (`DECODE_FAILED` or
 * `PAYLOAD_TOO_LARGE`), never a crash.
 */
import { Packr, Unpackr } from 'msgpackr';
import { AegisError } from './errors/aegis-error.js';

/** Limits applied when decoding. */
export interface DecodeLimits {
  /** Largest accepted payload in bytes. @default 1048576 (the NATS server default max_payload) */
  readonly maxBytes?: number;
  /** Deepest accepted nesting of maps and arrays. @default 32 */
  readonly maxDepth?: number;
  /** Most entries in one map or array. @default 100000 */
  readonly maxEntries?: number;
}

/** @default 1 MiB, the NATS server's default `max_payload`. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** @default 32 */
export const DEFAULT_MAX_DEPTH = 32;
/** @default 100000 */
export const DEFAULT_MAX_ENTRIES = 100_000;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

// `skipValues: [undefined]` drops optional fields left undefined instead of encoding msgpackr's
// private "undefined" extension, which other languages would not understand.
// (`skipValues` exists at runtime but is missing from msgpackr's typings.)
const packr = new Packr({ useRecords: false, variableMapSize: true, skipValues: [undefined] } as ConstructorParameters<typeof Packr>[0]);
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, moreTypes: false });

/**
 * Inputs up to this size are copied into one reused buffer and unpacked from there. msgpackr
 * creates a `DataView` for every new source buffer and stores it on the buffer as a property;
 * every NATS message is a new buffer, so that was ~0.2 µs and two objects per decode, where the
 * copy costs ~40 ns (ADR 0031 round 5). Byte strings are then copied out (`copyBuffers`) instead
 * of being views into the input — into Buffers, as the views of a Buffer input were.
 */
const SCRATCH_BYTES = 64 * 1024;
const scratch: Uint8Array =
  (globalThis as { Buffer?: { allocUnsafeSlow(size: number): Uint8Array } }).Buffer?.allocUnsafeSlow(SCRATCH_BYTES) ?? new Uint8Array(SCRATCH_BYTES);
const scratchUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, moreTypes: false, copyBuffers: true });

/** Encodes `value` as MessagePack. Plain objects become maps with string keys. */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/**
 * Decodes untrusted MessagePack into plain data with null-prototype objects.
 * @throws AegisError `PAYLOAD_TOO_LARGE` when over `maxBytes`; `DECODE_FAILED` for malformed or
 * hostile input (truncated data, huge declared lengths, deep nesting, forbidden keys).
 */
export function decode(bytes: Uint8Array, limits: DecodeLimits = {}): unknown {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (bytes.length > maxBytes) {
    throw new AegisError('PAYLOAD_TOO_LARGE', `payload of ${bytes.length} bytes exceeds ${maxBytes}`, {
      details: { size: bytes.length, limit: maxBytes },
    });
  }
  if (bytes.length === 0) throw decodeFailed('empty payload');
  let raw: unknown;
  try {
    if (bytes.length <= SCRATCH_BYTES) {
      scratch.set(bytes);
      // A number as the options is the end of the data: the scratch's stale bytes after it are
      // never part of a value (msgpackr fails a read past the end as truncated input).
      raw = scratchUnpackr.unpack(scratch, bytes.length);
    } else {
      raw = unpackr.unpack(bytes);
    }
  } catch (err) {
    throw decodeFailed(err instanceof Error ? err.message : String(err), err);
  }
  return toPlain(raw, 0, limits.maxDepth ?? DEFAULT_MAX_DEPTH, limits.maxEntries ?? DEFAULT_MAX_ENTRIES);
}

function toPlain(value: unknown, depth: number, maxDepth: number, maxEntries: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array || value instanceof Date) return value;
  if (depth >= maxDepth) throw decodeFailed(`nesting deeper than ${maxDepth}`);
  if (Array.isArray(value)) {
    if (value.length > maxEntries) throw decodeFailed(`array of ${value.length} entries exceeds ${maxEntries}`);
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = toPlain(value[i], depth + 1, maxDepth, maxEntries);
    return out;
  }
  if (value instanceof Map) {
    if (value.size > maxEntries) throw decodeFailed(`map of ${value.size} entries exceeds ${maxEntries}`);
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [key, entry] of value) {
      if (typeof key !== 'string') throw decodeFailed(`map key of type ${typeof key}; only string keys are accepted`);
      if (FORBIDDEN_KEYS.has(key)) throw decodeFailed(`forbidden map key "${key}"`);
      out[key] = toPlain(entry, depth + 1, maxDepth, maxEntries);
    }
    return out;
  }
  throw decodeFailed(`unsupported MessagePack value (${Object.prototype.toString.call(value)})`);
}

function decodeFailed(reason: string, cause?: unknown): AegisError<'DECODE_FAILED'> {
  return new AegisError('DECODE_FAILED', `invalid MessagePack payload: ${reason}`, { details: { reason }, cause });
}
