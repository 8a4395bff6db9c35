/**
 * The AegisIPC tracer. Spans go through `@opentelemetry/api` only: with no SDK registered (the
 * default) every span is a non-recording no-op, so tracing costs nothing measurable until an
 * application — or `aegis router` with `OTEL_*` variables set — installs a tracer provider.
 */
import { SpanStatusCode, trace, type Attributes, type Context, type Span, type SpanKind } from '@opentelemetry/api';
import { toAegisError } from '@aegis-ipc/protocol';

export const TRACER_NAME = '@aegis-ipc';

export function tracer() {
  return trace.getTracer(TRACER_NAME, '0.1.0');
}

/**
 * Ends `span` when `work` settles; an error sets the span status and the `error.type` attribute
 * (the AegisError code) and is rethrown unchanged. For spans started before the work (a call's
 * span, whose ids the request carries).
 */
export function endSpanWhenSettled<T>(span: Span, work: Promise<T>): Promise<T> {
  return work.then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      const e = toAegisError(err);
      span.setAttribute('error.type', e.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      span.end();
      throw err;
    },
  );
}

/**
 * Runs `fn` inside a span that ends when it settles; an error sets the span status and the
 * `error.type` attribute (the AegisError code) and is rethrown unchanged.
 */
export async function inSpan<T>(
  name: string,
  options: { kind: SpanKind; attributes?: Attributes; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const run = (span: Span) => endSpanWhenSettled(span, fn(span));
  return options.parent === undefined
    ? tracer().startActiveSpan(name, { kind: options.kind, attributes: options.attributes }, run)
    : tracer().startActiveSpan(name, { kind: options.kind, attributes: options.attributes }, options.parent, run);
}
