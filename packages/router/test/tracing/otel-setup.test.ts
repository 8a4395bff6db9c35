import { describe, expect, it } from 'vitest';
import { tracesExporterFromEnv } from '@aegis-ipc/router';

describe('tracesExporterFromEnv (standard OTEL_* variables)', () => {
  it.each([
    [{}, 'none'],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, 'otlp'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, 'otlp'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, 'otlp'],
    [{ OTEL_TRACES_EXPORTER: 'console' }, 'console'],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, 'none'],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }, 'none'],
  ] as const)('%j → %s', (env, expected) => {
    expect(tracesExporterFromEnv(env)).toBe(expected);
  });
});
