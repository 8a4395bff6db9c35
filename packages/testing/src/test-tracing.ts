/**
 * OpenTelemetry for a tracing test file: registers a global tracer provider that records spans in
 * memory, the W3C propagator and an async-hooks context manager — what an application does to
 * turn tracing on — and takes all of it down again, so AegisIPC's "no provider, no cost" path is
 * back for the next file.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

export interface TestTracing {
  /** Every ended span, in end order; `reset()` between tests. */
  readonly exporter: InMemorySpanExporter;
  /** Flushes and unregisters the provider, propagator and context manager. */
  uninstall(): Promise<void>;
}

export function installTestTracing(): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    exporter,
    async uninstall() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
