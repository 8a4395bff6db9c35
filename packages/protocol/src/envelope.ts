/**
 * Reply envelopes. Every reply body is a MessagePack map: either the documented reply fields, or
 * `{ error: WireError }`. A client in any language tells them apart by the `error` key.
 */
import { AegisError, isWireError, toAegisError, type WireError } from './errors/aegis-error.js';

/** The body of an error reply. */
export interface ErrorReply {
  readonly error: WireError;
}

/** Builds the error reply for anything thrown. */
export function errorReply(err: unknown): ErrorReply {
  return { error: toAegisError(err).toWire() };
}

/** True when a decoded reply is an error reply. */
export function isErrorReply(value: unknown): value is ErrorReply {
  return typeof value === 'object' && value !== null && 'error' in value && isWireError((value as ErrorReply).error);
}

/**
 * Returns a decoded reply, or throws the `AegisError` it carries.
 * @throws AegisError rebuilt from the wire error, same code as the sender's.
 */
export function unwrapReply<T>(value: unknown): T {
  if (isErrorReply(value)) throw AegisError.fromWire(value.error);
  return value as T;
}
