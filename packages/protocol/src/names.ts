/**
 * Validation of every user-supplied name that becomes part of a NATS subject (DESIGN "protocol").
 *
 * A token may hold only `[A-Za-z0-9_-]`: no `.` (token separator), `*`/`>` (wildcards),
 * whitespace or control characters, which would let a caller subscribe to, or publish into,
 * subjects it does not own.
 */
import { AegisError } from './errors/aegis-error.js';

/** Longest accepted name token. @default 64 */
export const MAX_NAME_LENGTH = 64;
/** Longest accepted topic (dot-separated tokens). */
export const MAX_TOPIC_LENGTH = 200;
/** Most tokens in a topic. */
export const MAX_TOPIC_TOKENS = 8;

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** The field being checked (`service_name`, `instance_id`, `method`, `topic`…): named in the error. */
export type NameKind = string;

/**
 * The last two names that passed the character check: a caller names the same service and
 * method call after call, and comparing with a known-good string is cheaper than the regex.
 */
let knownGood = '';
let knownGoodToo = '';

/** Returns the reason `value` is not a valid subject token, or `undefined` when it is. */
export function nameProblem(value: unknown, maxLength = MAX_NAME_LENGTH): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > maxLength) return `must be at most ${maxLength} characters`;
  if (value === knownGood || value === knownGoodToo) return undefined;
  if (!TOKEN.test(value)) return 'may contain only letters, digits, "_" and "-"';
  knownGoodToo = knownGood;
  knownGood = value;
  return undefined;
}

/**
 * Asserts that `value` is a valid subject token.
 * @throws AegisError `INVALID_NAME` with the field, the value and the rule broken.
 */
export function assertName(kind: NameKind, value: unknown, maxLength = MAX_NAME_LENGTH): asserts value is string {
  const problem = nameProblem(value, maxLength);
  if (problem !== undefined) {
    throw new AegisError('INVALID_NAME', `${kind} ${problem}`, {
      details: { field: kind, value: String(value).slice(0, 100), rule: problem },
    });
  }
}

/**
 * Asserts that `value` is a valid topic: 1…8 valid tokens joined by `.` (`orders.created`).
 * @throws AegisError `INVALID_NAME`
 */
export function assertTopic(value: unknown, kind: NameKind = 'topic'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TOPIC_LENGTH) {
    throw new AegisError('INVALID_NAME', `${kind} must be a string of 1…${MAX_TOPIC_LENGTH} characters`, {
      details: { field: kind, value: String(value).slice(0, 100), rule: 'length' },
    });
  }
  const tokens = value.split('.');
  if (tokens.length > MAX_TOPIC_TOKENS) {
    throw new AegisError('INVALID_NAME', `${kind} must have at most ${MAX_TOPIC_TOKENS} dot-separated tokens`, {
      details: { field: kind, value: value.slice(0, 100), rule: 'tokens' },
    });
  }
  for (const token of tokens) assertName(kind, token, MAX_TOPIC_LENGTH);
}
