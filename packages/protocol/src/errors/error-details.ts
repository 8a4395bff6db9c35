/**
 * Typed details carried by each error code. Codes without an entry carry an open record.
 * Details travel on the wire, so they are plain data (no class instances, no functions).
 */
import type { ErrorCode } from './error-codes.js';

/** One failed field of a validated payload. `path` is a JSON pointer (`/metadata/region`). */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/** One attempt of a routed call, as listed by `ROUTE_ALL_FAILED`. */
export interface RouteAttempt {
  readonly instance_id: string;
  readonly error_type: ErrorCode;
  readonly duration_ms: number;
}

export interface ErrorDetailsMap {
  /** `trace_id` when the router refused a routed call (RT-4): the call's, or one made for the error. */
  VALIDATION_FAILED: { readonly fields: readonly FieldError[]; readonly trace_id?: string };
  INVALID_NAME: { readonly field: string; readonly value: string; readonly rule: string };
  DECODE_FAILED: { readonly reason: string; readonly trace_id?: string };
  PAYLOAD_TOO_LARGE: { readonly size: number; readonly limit: number; readonly trace_id?: string };
  REGISTRATION_CONFLICT: { readonly existing: Readonly<Record<string, unknown>> };
  SERVICE_NOT_FOUND: { readonly service_name: string };
  ROUTE_NO_INSTANCE: { readonly service_name: string; readonly trace_id?: string };
  ROUTE_INSTANCE_TIMEOUT: { readonly instance_id: string; readonly timeout_ms: number; readonly trace_id?: string };
  ROUTE_ALL_FAILED: { readonly service_name: string; readonly attempts: readonly RouteAttempt[]; readonly trace_id?: string };
  ROUTE_LOOP_DETECTED: { readonly hops: number; readonly path: readonly string[]; readonly trace_id?: string };
  ROUTE_CIRCUIT_OPEN: { readonly service_name: string; readonly retry_after_ms: number; readonly trace_id?: string };
  MESSAGE_DUPLICATE: { readonly message_id: string; readonly original_response: unknown };
  DUPLICATE_COMMAND: { readonly duplicate_command_id: string };
}

/** The details type for `C`: specific where declared, an open record otherwise. */
export type ErrorDetails<C extends ErrorCode> = C extends keyof ErrorDetailsMap
  ? ErrorDetailsMap[C]
  : Readonly<Record<string, unknown>>;
