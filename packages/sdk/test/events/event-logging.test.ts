import { describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import type { Delivery, Outcome } from '../../src/events/delivery.js';
import { loggingInterceptor, traceIdOf } from '../../src/events/event-logging.js';

const delivery: Delivery = {
  transport: 'redis', topic: 't', group: 'g', messageId: 'm1', dedupeId: 'm1', key: undefined, qos: 2,
  headers: {}, data: new Uint8Array(), deliveryCount: 1, trace: undefined,
};

describe('traceIdOf', () => {
  it('reads the trace id of a W3C traceparent and nothing else', () => {
    expect(traceIdOf({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf(undefined)).toBeUndefined();
    expect(traceIdOf({ tracestate: 'x=1' })).toBeUndefined();
    expect(traceIdOf({ traceparent: 'garbage' })).toBeUndefined();
    expect(traceIdOf({ traceparent: '00-NOT-HEX-01' })).toBeUndefined();
  });
});

describe('logging interceptor', () => {
  /** A logger whose enabled levels are `enabled` and which fails the test if anything else is called. */
  const strictLogger = (enabled: readonly string[], lines: Array<[string, Record<string, unknown>]>): Logger =>
    ({
      isLevelEnabled: (level: string) => enabled.includes(level),
      debug: (obj: Record<string, unknown>) => (enabled.includes('debug') ? lines.push(['debug', obj]) : expect.unreachable('debug off')),
      info: (obj: Record<string, unknown>) => (enabled.includes('info') ? lines.push(['info', obj]) : expect.unreachable('info off')),
      warn: (obj: Record<string, unknown>) => lines.push(['warn', obj]),
    }) as unknown as Logger;
  const run = (logger: Logger, outcome: Outcome) => loggingInterceptor(logger)(delivery, () => Promise.resolve(outcome));

  it('with debug off, the happy path and a busy lease call no log method (nothing is built for them)', async () => {
    const lines: Array<[string, Record<string, unknown>]> = [];
    const logger = strictLogger(['info', 'warn'], lines);
    await run(logger, { type: 'ack' });
    await run(logger, { type: 'retry', delayMs: 5, error: 'leased', busy: true });
    expect(lines).toEqual([]);
  });

  it('names each outcome and hands it back unchanged', async () => {
    const lines: Array<[string, Record<string, unknown>]> = [];
    const logger = strictLogger(['debug', 'info', 'warn'], lines);
    const outcomes: Outcome[] = [
      { type: 'ack' },
      { type: 'ack', duplicate: true },
      { type: 'retry', delayMs: 5, error: 'leased', busy: true },
      { type: 'retry', delayMs: 7, error: 'boom' },
      { type: 'dead-letter', error: 'boom' },
      { type: 'fail', error: 'boom', retryable: true },
    ];
    for (const outcome of outcomes) expect(await run(logger, outcome)).toBe(outcome);
    expect(lines.map(([level, obj]) => `${level} ${String(obj['event'])}`)).toEqual([
      'debug event_dedupe_miss',
      'info event_dedupe_hit',
      'debug event_dedupe_busy',
      'warn event_retry_scheduled',
      'warn event_dead_lettered',
      'warn event_dropped',
    ]);
    for (const [, obj] of lines) expect(obj).toMatchObject({ message_id: 'm1', qos: 2, delivery: 1 });
  });
});
