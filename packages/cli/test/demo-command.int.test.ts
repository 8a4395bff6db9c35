/**
 * `aegis demo` from end to end, as the README tells a new user to run it: one command that starts
 * a router, three echo instances and a caller, kills one instance, shows failover and recovery,
 * and exits by itself. Runs the command as a child process (the demo starts its own router and child processes
 * in this test file's namespace, so nothing else on the NATS server sees its calls).
 */
import { describe, expect, it } from 'vitest';
import { TEST_NATS_URL } from '@aegis-ipc/testing';
import { runAegis } from './run-aegis.js';

const env = { ...process.env, NATS_URL: TEST_NATS_URL };

/** The demo's own length (~25 s) plus starting four processes on a busy 2-core machine. */
const DEMO_LIMIT_MS = 150_000;

interface Summary {
  calls: number;
  ok: number;
  errors: number;
  per_instance: Record<string, number>;
  steady_spread: number;
  killed_instance: string;
  detection_ms: number;
  recovery_ms: number;
  duration_s: number;
  passed: boolean;
}

describe('aegis demo', () => {
  it(
    'shows round robin, a killed instance failing over and recovering, and exits 0 by itself',
    async () => {
      const { code, stdout, stderr } = await runAegis(['demo', '--json'], env, DEMO_LIMIT_MS);
      expect(code, stderr).toBe(0);
      const summary = JSON.parse(stdout) as Summary;
      expect(summary.passed, stdout).toBe(true);
      expect(summary.errors, stdout).toBe(0);
      expect(summary.ok).toBe(summary.calls);
      // Three instances served calls, the killed one included (before the kill and after its restart).
      expect(Object.keys(summary.per_instance).sort()).toEqual(['demo-echo-1', 'demo-echo-2', 'demo-echo-3']);
      expect(summary.per_instance[summary.killed_instance]).toBeGreaterThan(0);
      expect(summary.detection_ms).toBeLessThan(5_000);
      expect(summary.recovery_ms).toBeGreaterThan(0);
      // Round robin over the three while all were up: the busiest got at most a few calls more.
      expect(summary.steady_spread).toBeLessThan(1.2);
    },
    DEMO_LIMIT_MS + 10_000,
  );

  it('prints the live distribution and a human summary without --json', { timeout: DEMO_LIMIT_MS + 10_000 }, async () => {
    const { code, stdout, stderr } = await runAegis(['demo'], env, DEMO_LIMIT_MS);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/router started \(NATS /);
    expect(stdout).toMatch(/summary/);
    expect(stdout).toMatch(/failure detection: demo-echo-\d out of rotation [0-9.]+ s after SIGKILL; back [0-9.]+ s after restart/);
    expect(stdout).toMatch(/✓ every call succeeded and the failure was detected in under 5 s/);
  });
});
