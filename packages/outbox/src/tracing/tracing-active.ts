/**
 * Whether an OpenTelemetry tracer provider is registered. The writer and the relay check this
 * first and skip every span and header allocation when tracing is off — the default (ADR 0004).
 * Same test as `tracingActive()` in `@aegis-ipc/sdk`, kept here so the outbox does not depend on
 * the SDK for five lines.
 */
import { ProxyTracerProvider, trace } from '@opentelemetry/api';

// A fresh proxy delegates to the API's no-op provider singleton until one is registered.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

export function tracingActive(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider ? provider.getDelegate() !== NOOP_PROVIDER : true;
}

/** The AegisIPC tracer (same name as the SDK's, so all AegisIPC spans share one scope). */
export function outboxTracer() {
  return trace.getTracer('@aegis-ipc', '0.1.0');
}
