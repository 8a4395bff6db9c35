/**
 * nats.js 3 calls a subscription callback straight from its protocol parser and does not catch
 * what it throws: the reader loop stops and the connection reads nothing more — for every user of
 * it (a `null` MAX_DELIVERIES advisory left a router deaf this way, ADR 0051). Every callback
 * AegisIPC hands to nats.js goes through {@link guardedCallback}, so a bug or a hostile message
 * costs that one message, never the shared connection.
 */
import type { Msg } from '@nats-io/nats-core';

/** The callback shape of `nc.subscribe(subject, { callback })`. */
export type NatsCallback = (err: Error | null, msg: Msg) => void;

/**
 * `callback`, with anything it throws handed to `onError` (default: a process warning with code
 * `AEGIS_CALLBACK_THREW`) instead of the nats.js reader.
 */
export function guardedCallback(callback: NatsCallback, onError: (err: unknown) => void = warnCallbackThrew): NatsCallback {
  return (err, msg) => {
    try {
      callback(err, msg);
    } catch (thrown) {
      try {
        onError(thrown);
      } catch {
        // A failing reporter must not reach the reader either.
      }
    }
  };
}

function warnCallbackThrew(err: unknown): void {
  process.emitWarning(err instanceof Error ? err : new Error(String(err)), { code: 'AEGIS_CALLBACK_THREW' });
}
