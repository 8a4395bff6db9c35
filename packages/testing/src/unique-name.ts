/**
 * Unique, subject-safe names so tests never share a stream, bucket, database or service name,
 * and leftovers of one run cannot disturb the next.
 */
export function uniqueName(prefix: string): string {
  const random = globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 10);
  return `${prefix}_${random}`;
}
