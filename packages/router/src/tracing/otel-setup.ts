/**
 * Turns OpenTelemetry export on for AegisIPC processes (router, relay) from the standard
 * `OTEL_*` variables. Off unless asked for: with no provider registered, every AegisIPC span is a
 * no-op. Applications embedding the SDK configure OpenTelemetry themselves; AegisIPC spans then
 * join their traces.
 *
 * - `OTEL_TRACES_EXPORTER=otlp` (or any `OTEL_EXPORTER_OTLP_*ENDPOINT`) → OTLP/HTTP export, with
 *   the exporter reading its own `OTEL_EXPORTER_OTLP_*` variables;
 * - `OTEL_TRACES_EXPORTER=console` → spans printed to stdout (debugging);
 * - `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` → off.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

/** What `startTracing` decided, and how to flush and stop it. */
export interface TracingHandle {
  readonly exporter: 'otlp' | 'console' | 'none';
  shutdown(): Promise<void>;
}

/** Decides the exporter from the environment (pure; exported for tests). */
export function tracesExporterFromEnv(env: NodeJS.ProcessEnv): 'otlp' | 'console' | 'none' {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED ?? '')) return 'none';
  const chosen = (env.OTEL_TRACES_EXPORTER ?? '').split(',')[0]?.trim().toLowerCase();
  if (chosen === 'none') return 'none';
  if (chosen === 'console') return 'console';
  if (chosen === 'otlp' || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return 'otlp';
  return 'none';
}

/**
 * Registers a global tracer provider when the environment asks for export.
 * @param serviceName used when `OTEL_SERVICE_NAME` is not set.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): TracingHandle {
  const exporterKind = tracesExporterFromEnv(env);
  if (exporterKind === 'none') return { exporter: 'none', shutdown: async () => {} };
  const exporter: SpanExporter = exporterKind === 'otlp' ? new OTLPTraceExporter() : new ConsoleSpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    exporter: exporterKind,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
    },
  };
}
