/**
 * The one registry of AegisIPC error codes (STYLE.md habit 4, after fastify's `lib/errors.js`).
 *
 * A code is stable forever: never renamed, never reused for another meaning. `status` is the
 * HTTP-like status the admin API and the wire use; `retryable` says whether the *same* request
 * may succeed if sent again. Every code is documented in `docs/errors.md`; a unit test keeps the
 * two in step.
 */
export const ERROR_CODES = {
  // ── input ────────────────────────────────────────────────────────────────
  VALIDATION_FAILED: { status: 400, retryable: false, summary: 'A payload failed schema validation; details list each field.' },
  INVALID_NAME: { status: 400, retryable: false, summary: 'A service, instance, method or topic name is not a valid subject token.' },
  DECODE_FAILED: { status: 400, retryable: false, summary: 'A payload is not valid MessagePack or breaks the decode limits.' },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, summary: 'A payload exceeds the size limit (the server max_payload or a configured bound).' },
  UNAUTHORIZED: { status: 401, retryable: false, summary: 'Missing or wrong credentials for an admin or API route.' },
  NOT_FOUND: { status: 404, retryable: false, summary: 'A route or resource that does not exist.' },
  // ── registry ─────────────────────────────────────────────────────────────
  SERVICE_NOT_FOUND: { status: 404, retryable: false, summary: 'No service with that name is known to the registry.' },
  REGISTRATION_CONFLICT: { status: 409, retryable: false, summary: 'The instance id is held by a different live registration.' },
  // ── transport ────────────────────────────────────────────────────────────
  TIMEOUT: { status: 504, retryable: true, summary: 'No reply arrived within the timeout.' },
  CONNECTION_FAILED: { status: 503, retryable: true, summary: 'The NATS connection failed or no responder is listening.' },
  CLOSED: { status: 503, retryable: false, summary: 'The client, instance or router was closed.' },
  CANCELLED: { status: 499, retryable: false, summary: 'The caller aborted the call (AbortSignal) before a reply arrived.' },
  // ── routing ──────────────────────────────────────────────────────────────
  ROUTE_NO_INSTANCE: { status: 503, retryable: false, summary: 'The service has no healthy instance to route to.' },
  ROUTE_INSTANCE_TIMEOUT: { status: 504, retryable: true, summary: 'The chosen instance did not answer in time.' },
  ROUTE_ALL_FAILED: { status: 502, retryable: true, summary: 'Every attempted instance failed; details list each attempt.' },
  ROUTE_LOOP_DETECTED: { status: 508, retryable: false, summary: 'The request exceeded the maximum hop count; details carry the path.' },
  ROUTE_CIRCUIT_OPEN: { status: 503, retryable: true, summary: 'The circuit breaker for the service is open.' },
  METHOD_NOT_FOUND: { status: 404, retryable: false, summary: 'The instance does not serve the requested method.' },
  APPLICATION_ERROR: { status: 500, retryable: false, summary: 'The service handler threw; not retried on another instance.' },
  // ── delivery guarantees ──────────────────────────────────────────────────
  MESSAGE_DUPLICATE: { status: 409, retryable: false, summary: 'The message id was already processed; details carry the original response.' },
  MESSAGE_EXPIRED: { status: 410, retryable: false, summary: 'The message outlived its time to live before it was processed.' },
  MESSAGE_NOT_FOUND: { status: 404, retryable: false, summary: 'No status is known for that message id.' },
  ACK_TIMEOUT: { status: 504, retryable: true, summary: 'No acknowledgement arrived within the ack timeout.' },
  STORAGE_FAILURE: { status: 503, retryable: true, summary: 'The durable store (JetStream, KV, PostgreSQL, Redis) failed.' },
  PUBLISH_FAILED: { status: 503, retryable: true, summary: 'The broker did not accept a publish.' },
  // ── commands and outbox ──────────────────────────────────────────────────
  DUPLICATE_COMMAND: { status: 409, retryable: false, summary: 'A command of that type is already pending for the aggregate.' },
  EVENT_NAME_INVALID: { status: 400, retryable: false, summary: 'An event type breaks the <Domain>.<Aggregate>[.<Sub>].<Action> convention.' },
  UNKNOWN_COMMAND: { status: 400, retryable: false, summary: 'No handler is registered for the command type.' },
  COMMAND_NOT_PENDING: { status: 409, retryable: false, summary: 'The command already finished (COMPLETED or FAILED); it cannot be finished again.' },
  // ── configuration and internals ──────────────────────────────────────────
  CONFIG_INVALID: { status: 500, retryable: false, summary: 'A configuration value or option is invalid.' },
  INTERNAL: { status: 500, retryable: false, summary: 'An unexpected internal failure; the message says what was being done.' },
} as const satisfies Record<string, { status: number; retryable: boolean; summary: string }>;

/** A stable AegisIPC error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `value` is a registered error code. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
