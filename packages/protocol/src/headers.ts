/**
 * NATS message headers used by the protocol. Header names are case-sensitive in NATS; these are
 * the exact spellings.
 */
export const HEADERS = {
  /** W3C trace context, propagated across every hop. */
  traceparent: 'traceparent',
  /** W3C trace state, propagated when present. */
  tracestate: 'tracestate',
  /** The AegisIPC trace id (32 lowercase hex, the W3C trace id). */
  traceId: 'Ipc-Trace-Id',
  /** The message id of a reliable call or event; also set as `Nats-Msg-Id` for JetStream dedupe. */
  messageId: 'Ipc-Message-Id',
  /** Hops a routed request has taken so far (loop detection). */
  hops: 'Ipc-Hops',
  /** Comma-separated path of routers/instances a routed request went through. */
  path: 'Ipc-Path',
  /** JetStream de-duplication header. */
  natsMsgId: 'Nats-Msg-Id',
  /** Router → instance: the time this attempt may take (ms); the handler's `ctx.signal` follows it. */
  timeoutMs: 'Ipc-Timeout-Ms',
  /** Router → instance: 1-based attempt number of this delivery. */
  attempt: 'Ipc-Attempt',
  /** Router → caller: set to `1` when the reply is the configured fallback (breaker open). */
  fallback: 'Ipc-Fallback',
} as const;
