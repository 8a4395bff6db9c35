/**
 * Output helpers shared by every command: a readable table for humans, one JSON document with
 * `--json` for scripts, and errors printed as one clear line (code + message) with exit code 1.
 */
import { toAegisError } from '@aegis-ipc/protocol';

/** Options every command that prints data accepts. */
export interface OutputOptions {
  json?: boolean;
}

/** Prints `rows` as an aligned text table with `columns` as headers. */
export function printTable(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): void {
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  process.stdout.write(`${line(columns.map((c) => c.toUpperCase()))}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}

function formatCell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value.toString();
  return JSON.stringify(value) ?? '-';
}

/** Prints `value` as pretty JSON (for `--json`). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints an error as one line on stderr (`--json`: as a JSON object) and sets exit code 1. */
export function printError(err: unknown, json = false): void {
  const e = toAegisError(err);
  if (json) process.stderr.write(`${JSON.stringify({ error: e.toWire() })}\n`);
  else process.stderr.write(`aegis: ${e.code}: ${e.message}\n`);
  process.exitCode = 1;
}
