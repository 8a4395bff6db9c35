/**
 * Translates nats.js failures into AegisErrors with stable codes, so callers never see a raw
 * transport exception: no responders → `CONNECTION_FAILED` (retryable), timeout → `TIMEOUT`,
 * closed/draining connection → `CLOSED`.
 */
import { errors } from '@nats-io/nats-core';
import { AegisError, toAegisError } from '@aegis-ipc/protocol';

export function fromNatsError(err: unknown, what: string, timeoutMs?: number): AegisError {
  if (err instanceof AegisError) return err as AegisError;
  if (err instanceof errors.NoRespondersError || (err instanceof errors.RequestError && err.isNoResponders())) {
    return new AegisError('CONNECTION_FAILED', `${what}: no responder is listening (is the router running?)`, { cause: err });
  }
  if (err instanceof errors.TimeoutError) {
    return new AegisError('TIMEOUT', `${what}: no reply within ${timeoutMs ?? '?'} ms`, { cause: err });
  }
  if (err instanceof errors.ClosedConnectionError || err instanceof errors.DrainingConnectionError) {
    return new AegisError('CLOSED', `${what}: the NATS connection is closed`, { cause: err });
  }
  if (err instanceof errors.ConnectionError) {
    return new AegisError('CONNECTION_FAILED', `${what}: ${err.message}`, { cause: err });
  }
  return toAegisError(err);
}
