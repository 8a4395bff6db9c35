/**
 * `aegis call <service> <method> --params '<json>'` — one routed call through the router, as a
 * caller in code would make it; prints the result (or the typed error) and the trace id, so
 * `aegis trace <trace_id>` can show how it was routed. `--retry <n>` makes the call with the SDK's
 * caller retry (ADR 0032), `--idempotent` lets it retry timeouts too.
 */
import type { Command } from 'commander';
import { AegisError, newTraceId } from '@aegis-ipc/protocol';
import { connect, type CallRetryOptions } from '@aegis-ipc/sdk';
import { printJson } from '../output.js';

interface CallCommandOptions {
  params: string;
  timeout?: string;
  trace?: string;
  resource?: string;
  retry?: string;
  idempotent?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('call <service> <method>')
    .description('call a method of a service through the router and print the result')
    .option('--params <json>', 'params as a JSON object', '{}')
    .option('--timeout <ms>', 'timeout in ms (default 16000: above the router budget)')
    .option('--trace <trace_id>', 'trace id to use (default: a new one)')
    .option('--resource <resource_id>', 'resource id (for affinity routing)')
    .option('--retry <n>', 'retries when no handler ran (no router, no instance, breaker open), within --timeout')
    .option('--idempotent', 'with --retry: also retry timeouts (the handler may run again)')
    .option('--json', 'print JSON: { trace_id, duration_ms, result } or { trace_id, error }')
    .action(async (service: string, method: string, opts: CallCommandOptions) => {
      const params = parseParams(opts.params);
      const timeoutMs = opts.timeout === undefined ? undefined : Number(opts.timeout);
      if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new AegisError('VALIDATION_FAILED', `--timeout must be a positive number of ms, got ${opts.timeout}`, { details: { fields: [{ path: '/timeout', message: 'must be > 0' }] } });
      const retry = parseRetry(opts.retry, opts.idempotent === true);
      const traceId = opts.trace ?? newTraceId();
      const client = await connect({ name: 'aegis-cli-call', retry: { retries: 0 } });
      const started = performance.now();
      try {
        const result = await client.call(service, method, params, { timeoutMs, traceId, resourceId: opts.resource, retry });
        const durationMs = Math.round((performance.now() - started) * 100) / 100;
        if (opts.json) printJson({ trace_id: traceId, duration_ms: durationMs, result });
        else {
          process.stdout.write(`${JSON.stringify(result, null, 2) ?? 'undefined'}\n`);
          process.stderr.write(`trace ${traceId} · ${durationMs} ms\n`);
        }
      } catch (err) {
        // Keep the trace id with the error: it is the handle for `aegis trace`.
        if (err instanceof AegisError) process.stderr.write(err.callAttempts === undefined ? `trace ${traceId}\n` : `trace ${traceId} · ${err.callAttempts} attempts\n`);
        throw err;
      } finally {
        await client.close();
      }
    });
}

/** @throws AegisError `VALIDATION_FAILED` unless `raw` is a non-negative integer; for `--idempotent` without `--retry`. */
function parseRetry(raw: string | undefined, idempotent: boolean): CallRetryOptions | undefined {
  if (raw === undefined) {
    if (idempotent) throw new AegisError('VALIDATION_FAILED', '--idempotent needs --retry <n>', { details: { fields: [{ path: '/idempotent', message: 'needs --retry' }] } });
    return undefined;
  }
  if (!/^[0-9]{1,4}$/.test(raw)) throw new AegisError('VALIDATION_FAILED', `--retry must be a non-negative integer, got ${raw}`, { details: { fields: [{ path: '/retry', message: 'must be an integer >= 0' }] } });
  return { retries: Number(raw), idempotent };
}

/** @throws AegisError `VALIDATION_FAILED` unless `raw` is a JSON object. */
function parseParams(raw: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new AegisError('VALIDATION_FAILED', `--params is not valid JSON: ${(err as Error).message}`, { details: { fields: [{ path: '/params', message: 'invalid JSON' }] } });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AegisError('VALIDATION_FAILED', '--params must be a JSON object', { details: { fields: [{ path: '/params', message: 'must be an object' }] } });
  }
  return value as Record<string, unknown>;
}
