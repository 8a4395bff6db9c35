/**
 * Maps errors to HTTP answers. DUPLICATE_COMMAND has the exact body SPEC OB-3 fixes; other
 * AegisErrors answer `{ error_code, message, details }`. Internal failures never leak their
 * message to clients (STYLE: fastify's lesson).
 */
import { AegisError, isUuidV4 } from '@aegis-ipc/protocol';

export interface HttpError {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export function toHttpError(err: unknown): HttpError {
  if (err instanceof AegisError) {
    if (err.is('DUPLICATE_COMMAND')) {
      // Exactly this object, in this key order (OB-3).
      return {
        status: 409,
        body: { error_code: 'DUPLICATE_COMMAND', message: 'Command already processing', duplicate_command_id: err.details?.duplicate_command_id },
      };
    }
    if (err.status < 500) {
      return { status: err.status, body: err.details === undefined ? { error_code: err.code, message: err.message } : { error_code: err.code, message: err.message, details: err.details } };
    }
    return { status: err.status, body: { error_code: err.code, message: err.retryable ? 'Service temporarily unavailable, retry later' : 'Internal error' } };
  }
  return { status: 500, body: { error_code: 'INTERNAL', message: 'Internal error' } };
}

/** @throws AegisError `VALIDATION_FAILED` unless `value` is a UUID v4. */
export function assertSessionId(value: string): void {
  if (!isUuidV4(value)) {
    throw new AegisError('VALIDATION_FAILED', 'session_id must be a UUID v4', { details: { fields: [{ path: '/session_id', message: 'UUID v4' }] } });
  }
}
