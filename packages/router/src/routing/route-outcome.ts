/** What the routing pipeline produces for one call, and the record of each attempt. */
import type { AegisError, InstanceRecord } from '@aegis-ipc/protocol';
import type { RouteInput } from './route-input.js';

/** One attempt on one instance. */
export interface AttemptRecord {
  readonly attempt: number;
  readonly instance_id: string;
  /** `answered` (result), `error_reply` (the instance answered with an error), or why it failed. */
  readonly outcome: 'answered' | 'error_reply' | 'timeout' | 'no_responders';
  /** Error code of an error reply or a failed attempt. */
  readonly error_type?: string;
  readonly duration_ms: number;
  readonly timeout_ms: number;
}

export interface RouteOutcome {
  /**
   * `answered`: an instance replied (result or error) and `data` holds its bytes;
   * `fallback`: the breaker is open and `data` holds the configured fallback reply;
   * `failed`: no instance answered, `error` says why.
   */
  readonly kind: 'answered' | 'fallback' | 'failed';
  readonly data?: Uint8Array;
  readonly error?: AegisError;
  /** The instance that answered. */
  readonly instanceId?: string;
  /** Code of the error an instance answered with (`kind: 'answered'`), when it did. */
  readonly replyErrorCode?: string;
  readonly attempts: readonly AttemptRecord[];
  /** The healthy instances the strategy chose from (a shared frozen array). */
  readonly considered: readonly InstanceRecord[];
  readonly strategy: string;
}

export type RouteHandler = (input: RouteInput) => Promise<RouteOutcome>;

/**
 * Cross-cutting routing behaviour (breaker, metrics, traces), STYLE habit 7. Must not mutate
 * `input`. Returns a promise; the router answers a synchronous throw like a rejection.
 */
export type RouteInterceptor = (input: RouteInput, next: RouteHandler) => Promise<RouteOutcome>;

/** Chains `interceptors` (first = outermost) around `terminal`. */
export function composeRoute(interceptors: readonly RouteInterceptor[], terminal: RouteHandler): RouteHandler {
  return interceptors.reduceRight<RouteHandler>((next, interceptor) => (input) => interceptor(input, next), terminal);
}

const NONE: readonly InstanceRecord[] = Object.freeze([]);

/** An outcome for a call refused before any attempt. */
export function refused(error: AegisError, strategy: string, considered: readonly InstanceRecord[] = NONE): RouteOutcome {
  return { kind: 'failed', error, attempts: [], considered, strategy };
}
