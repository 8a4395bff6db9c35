import { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes.js';
import type { ErrorDetails } from './error-details.js';

/** An error as it travels on the wire: a MessagePack/JSON map, readable from any language. */
export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Options for {@link AegisError}. */
export interface AegisErrorOptions<C extends ErrorCode> {
  readonly details?: ErrorDetails<C>;
  readonly cause?: unknown;
  /** Overrides the registry's `retryable` for this instance (e.g. a timeout known to be final). */
  readonly retryable?: boolean;
  /** See {@link AegisError.callAttempts}. */
  readonly callAttempts?: number;
}

/**
 * The one error class of AegisIPC. `code` is stable (see `docs/errors.md`); `details` is typed
 * per code, so after `err.is('ROUTE_ALL_FAILED')` the attempts are typed.
 *
 * @example
 * try { await client.call('billing', 'charge', params) }
 * catch (err) { if (err instanceof AegisError && err.is('ROUTE_NO_INSTANCE')) … }
 */
export class AegisError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'AegisError';
  readonly code: C;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: ErrorDetails<C> | undefined;
  /**
   * How many times `client.call()` sent the call before it failed with this error; set only when
   * the call had a `retry` option (ADR 0032). A property, not a detail: `details` are typed per
   * code and travel on the wire, and this count is the caller's own — a handler that rethrows the
   * error of a call it made must not pass its count on to its caller.
   */
  readonly callAttempts: number | undefined;

  constructor(code: C, message: string, options: AegisErrorOptions<C> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.details = options.details;
    this.callAttempts = options.callAttempts;
  }

  /** Narrows this error to code `code`, typing its details. */
  is<K extends ErrorCode>(code: K): this is AegisError<K> {
    return (this.code as string) === code;
  }

  /** The wire form: only plain data, never the stack or the cause. */
  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message, status: this.status, retryable: this.retryable };
    return this.details === undefined ? wire : { ...wire, details: this.details };
  }

  /**
   * Rebuilds an error received on the wire into an `AegisError` of the same code. An unknown
   * code (a newer peer) becomes `INTERNAL` with the original code kept in `details.remote_code`.
   */
  static fromWire(wire: WireError): AegisError {
    if (isErrorCode(wire.code)) {
      return new AegisError(wire.code, wire.message, {
        details: wire.details,
        retryable: wire.retryable,
      });
    }
    return new AegisError('INTERNAL', wire.message, { details: { ...wire.details, remote_code: wire.code } });
  }
}

/** True when `err` is an {@link AegisError}, optionally of code `code`. */
export function isAegisError<C extends ErrorCode>(err: unknown, code?: C): err is AegisError<C> {
  return err instanceof AegisError && (code === undefined || err.code === code);
}

/** True when `value` has the shape of a {@link WireError}. */
export function isWireError(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && typeof v.message === 'string';
}

/**
 * Turns anything thrown into an `AegisError`, keeping AegisErrors as they are. Used at every
 * boundary that must answer with a wire error instead of crashing.
 */
export function toAegisError(err: unknown, fallback: ErrorCode = 'INTERNAL'): AegisError {
  if (err instanceof AegisError) return err as AegisError;
  const message = err instanceof Error ? err.message : String(err);
  return new AegisError(fallback, message, { cause: err });
}
