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
  /**
   * Routed calls: the target service, copied from the body by the SDK so the router can route
   * without decoding the body. Optional: a body-only request is decoded instead.
   */
  service: 'Ipc-Service',
  /** Routed calls: the method, copied from the body (see {@link HEADERS.service}). */
  method: 'Ipc-Method',
  /** Routed calls: the caller's timeout in ms (router → instance: the attempt's own budget). */
  timeoutMs: 'Ipc-Timeout-Ms',
  /** Routed calls: resource id for affinity strategies, copied from the body. */
  resourceId: 'Ipc-Resource-Id',
  /** Router → instance: 1-based attempt number of this delivery. */
  attempt: 'Ipc-Attempt',
  /** Router → caller: set to `1` when the reply is the configured fallback (breaker open). */
  fallback: 'Ipc-Fallback',
} as const;
