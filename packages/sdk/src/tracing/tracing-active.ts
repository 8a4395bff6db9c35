/**
 * Whether a tracer provider is registered. Hot paths (routing, serving) check this first and
 * skip span and header work entirely when tracing is off — the default — so it costs one
 * property read per call, not a span allocation.
 */
import { ProxyTracerProvider, trace } from '@opentelemetry/api';

// A fresh proxy delegates to the API's no-op provider singleton until one is registered.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

export function tracingActive(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider ? provider.getDelegate() !== NOOP_PROVIDER : true;
}
