/**
 * Collects the JSON lines a pino logger writes, so a test can assert what was logged (SPEC OBS-3:
 * which `event`, with which `trace_id` and `message_id`). Pass `capture.stream` as pino's
 * destination; no pino import here, so the helper does not tie this package to a logger version.
 *
 * @example
 * const logs = captureLogs();
 * const logger = pino({ level: 'debug' }, logs.stream);
 * …
 * expect(logs.withEvent('event_dedupe_hit')[0]).toMatchObject({ message_id: 'm-1' });
 */

/** One parsed log line. */
export type LogRecord = Readonly<Record<string, unknown>>;

export interface LogCapture {
  /** pino's destination (its `DestinationStream` shape): every line written to it is parsed and kept, synchronously. */
  readonly stream: { write(line: string): void };
  /** Every line so far, in order. */
  records(): readonly LogRecord[];
  /** The lines whose `event` field is `event`. */
  withEvent(event: string): readonly LogRecord[];
}

/** Parsing at most this many lines keeps a runaway test from growing memory without bound. */
const MAX_RECORDS = 100_000;

/** A fresh capture; each test makes its own. */
export function captureLogs(): LogCapture {
  const kept: LogRecord[] = [];
  // pino writes one whole line (ending in a newline) per call.
  const stream = {
    write(line: string): void {
      if (line.trim() !== '' && kept.length < MAX_RECORDS) kept.push(JSON.parse(line) as LogRecord);
    },
  };
  return {
    stream,
    records: () => kept,
    withEvent: (event) => kept.filter((r) => r['event'] === event),
  };
}
