/** Identifier generation. Uses the platform's CSPRNG (`crypto.randomUUID`, `getRandomValues`). */

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const TRACE_ID = /^[0-9a-f]{32}$/;
const ID_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** A new message id: UUID v4 (EO-1). */
export function newMessageId(): string {
  return globalThis.crypto.randomUUID();
}

/**
 * True when `value` may be a message or trace id on the wire: 1–64 characters of
 * `[A-Za-z0-9_-]` (the `TraceId` / `MessageId` schemas' rule; ids travel in subjects and headers).
 */
export function isIdToken(value: unknown): value is string {
  return typeof value === 'string' && ID_TOKEN.test(value);
}

/** True when `value` is a UUID v4. */
export function isUuidV4(value: unknown): value is string {
  return typeof value === 'string' && UUID_V4.test(value);
}

/** A new trace id: 32 lowercase hex characters, the W3C trace-context trace id. */
export function newTraceId(): string {
  if (latin1Slice === undefined) return randomHex(16);
  // Written as hex bytes and read back as one flat string: `randomHex` builds it from 16
  // concatenations (a rope the first reader must flatten); this is ~half its cost (ADR 0031 round 5).
  randomHexInto(traceIdBytes, 0, 16);
  return latin1Slice.call(traceIdBytes, 0, 32);
}

const traceIdBytes = new Uint8Array(32);
/** Node's Latin-1 slice (undefined elsewhere): a string from ASCII bytes without a decoder. */
const latin1Slice = (globalThis as { Buffer?: { prototype: { latin1Slice?: (this: Uint8Array, start: number, end: number) => string } } }).Buffer?.prototype.latin1Slice;

// Random ids are drawn from a pool refilled 4 KiB at a time: one `getRandomValues` per call
// costs more than the rest of a routed call's id handling (measured ~12 µs vs < 1 µs pooled).
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let poolPos = POOL_SIZE;
const HEX = Array.from({ length: 256 }, (_, b) => (b < 16 ? '0' : '') + b.toString(16));

/** `bytes` CSPRNG bytes as lowercase hex (never all zero, as W3C ids must not be). */
export function randomHex(bytes: number): string {
  if (poolPos + bytes > POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool);
    poolPos = 0;
  }
  let out = '';
  let zero = true;
  for (let i = 0; i < bytes; i++) {
    const b = pool[poolPos++] as number;
    if (b !== 0) zero = false;
    out += HEX[b];
  }
  return zero ? randomHex(bytes) : out;
}

/** ASCII codes of the lowercase hex digits. */
const HEX_CODES = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * Writes `bytes` CSPRNG bytes as lowercase hex ASCII into `target` at `offset` (never all zero),
 * from the same pool as {@link randomHex}: for callers assembling bytes (the router's header
 * block), where building the string first and copying its characters back cost more.
 * @returns the offset just past what was written.
 */
export function randomHexInto(target: Uint8Array, offset: number, bytes: number): number {
  if (poolPos + bytes > POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool);
    poolPos = 0;
  }
  let at = offset;
  let any = 0;
  for (let i = 0; i < bytes; i++) {
    const b = pool[poolPos++] as number;
    any |= b;
    target[at++] = HEX_CODES[b >> 4] as number;
    target[at++] = HEX_CODES[b & 15] as number;
  }
  return any === 0 ? randomHexInto(target, offset, bytes) : at;
}

/** True when `value` is a W3C trace id (32 lowercase hex, not all zero). */
export function isTraceId(value: unknown): value is string {
  return typeof value === 'string' && TRACE_ID.test(value) && value !== '0'.repeat(32);
}
