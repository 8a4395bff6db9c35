/** Tracing helpers shared by the SDK and the router (OpenTelemetry API only). */
export { tracer, inSpan, endSpanWhenSettled, TRACER_NAME } from './tracer.js';
export { tracingActive } from './tracing-active.js';
export { injectTraceContext, extractTraceContext, injectTraceContextInto, extractTraceContextFrom } from './nats-carrier.js';
