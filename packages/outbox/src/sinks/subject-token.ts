/**
 * Turns an aggregate id (any string) into one NATS subject token. Ids that are already safe
 * tokens are used as they are; others (dots, wildcards, spaces, too long) become `x_<hash>` so
 * they can never widen a subscription. The exact id is always in the payload and headers.
 */
import { createHash } from 'node:crypto';
import { nameProblem } from '@aegis-ipc/protocol';

const MAX_KEY_TOKEN = 128;

export function subjectToken(key: string): string {
  if (nameProblem(key, MAX_KEY_TOKEN) === undefined) return key;
  return `x_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}
