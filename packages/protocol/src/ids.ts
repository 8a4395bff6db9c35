/** Identifier generation. Uses the platform's CSPRNG (`crypto.randomUUID`, `getRandomValues`). */

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const TRACE_ID = /^[0-9a-f]{32}$/;

/** A new message id: UUID v4 (EO-1). */
export function newMessageId(): string {
  return globalThis.crypto.randomUUID();
}

/** True when `value` is a UUID v4. */
export function isUuidV4(value: unknown): value is string {
  return typeof value === 'string' && UUID_V4.test(value);
}

/** A new trace id: 32 lowercase hex characters, the W3C trace-context trace id. */
export function newTraceId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** True when `value` is a W3C trace id (32 lowercase hex, not all zero). */
export function isTraceId(value: unknown): value is string {
  return typeof value === 'string' && TRACE_ID.test(value) && value !== '0'.repeat(32);
}
