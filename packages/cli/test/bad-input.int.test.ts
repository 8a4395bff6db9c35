/**
 * What a mistyped command line gets when run as a user runs it (the command as a child process): one typed error line (or JSON with `--json`) and exit code 1 — never a stack trace,
 * never a silent fallback to a default. Every case fails before any broker or router would be
 * contacted; the URLs point where nothing listens, so a case that got that far fails differently.
 */
import { describe, expect, it } from 'vitest';
import { runAegis, type AegisRun } from './run-aegis.js';

const env = { ...process.env, AEGIS_ADMIN_URL: 'http://127.0.0.1:9', NATS_URL: 'nats://127.0.0.1:9', REDIS_URL: 'redis://127.0.0.1:9' };

function aegis(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<AegisRun> {
  return runAegis(args, { ...env, ...extraEnv });
}

describe('the aegis command on bad input', () => {
  it('prints an invalid AEGIS_NAMESPACE as one typed line, not a stack trace', async () => {
    const [human, json] = await Promise.all([aegis(['services'], { AEGIS_NAMESPACE: 'bad.ns' }), aegis(['services', '--json'], { AEGIS_NAMESPACE: 'bad.ns' })]);
    expect(human.code).toBe(1);
    expect(human.stderr).toBe('aegis: CONFIG_INVALID: AEGIS_NAMESPACE="bad.ns" is invalid: expected 1…32 of [A-Za-z0-9_-]\n');

    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'CONFIG_INVALID', details: { env: 'AEGIS_NAMESPACE', value: 'bad.ns' } } });
  }, 120_000);

  it('refuses a mistyped --limit or --port instead of using the default or passing NaN on', async () => {
    // Every flag uses the same parser (option-parsers.test.ts); these show commander hands its
    // typed error to the one-line printer.
    const cases = [['events', 'dlq', '--limit', 'abc'], ['router', '--port', 'abc']];
    const results = await Promise.all(cases.map((args) => aegis(args)));
    for (const [i, { code, stdout, stderr }] of results.entries()) {
      const args = cases[i] ?? [];
      expect(code, args.join(' ')).toBe(1);
      expect(stdout).toBe('');
      expect(stderr, args.join(' ')).toMatch(/^aegis: VALIDATION_FAILED: --(limit|port) must be a whole number in \d+…\d+, got "abc"\n$/);
    }
  }, 120_000);
});
