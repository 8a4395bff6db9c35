/** Input checks of the writer: required text fields, before any database work. */
import { AegisError } from '@aegis-ipc/protocol';
import type { SubmitCommandInput } from './command-types.js';

/** @throws AegisError `VALIDATION_FAILED` naming the first missing or oversized field. */
export function validateInput(input: SubmitCommandInput): void {
  requireText('aggregate_type', input.aggregateType);
  requireText('session_id', input.sessionId);
  requireText('command_type', input.commandType);
  requireText('correlation_id', input.correlationId);
  requireText('causation_id', input.causationId);
  if (input.idempotencyKey !== undefined) requireText('idempotency_key', input.idempotencyKey);
}

/** @throws AegisError `VALIDATION_FAILED` naming the field. */
export function requireText(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) {
    throw new AegisError('VALIDATION_FAILED', `${field} is required (a non-empty string of at most 200 characters)`, {
      details: { fields: [{ path: `/${field}`, message: 'required non-empty string, at most 200 characters' }] },
    });
  }
}
