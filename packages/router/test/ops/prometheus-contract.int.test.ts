/**
 * The Prometheus contract (OBS-1, OBS-4): /metrics passes `promtool check metrics`, and the alert
 * rules pass `promtool check rules` and their unit tests. promtool comes from Debian's
 * `prometheus` package (installed by .ci/install-system-deps).
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AegisClient } from '@aegis-ipc/sdk';
import { uniqueName } from '@aegis-ipc/testing';
import type { Router } from '@aegis-ipc/router';
import { routerHarness } from '../router-harness.js';

const run = promisify(execFile);
const rulesDir = fileURLToPath(new URL('../../../../ops/prometheus/', import.meta.url));
const harness = routerHarness();
let router: Router;
let client: AegisClient;

beforeAll(async () => {
  router = await harness.start();
  ({ client } = await harness.connect());
  await client.register(uniqueName('svc'), uniqueName('i'));
});
afterAll(() => harness.cleanup());

function promtoolCheckMetrics(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('promtool', ['check', 'metrics']);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

describe('Prometheus contract', () => {
  it('/metrics passes promtool check metrics', async () => {
    const text = await (await fetch(`${router.url}/metrics`)).text();
    const { code, output } = await promtoolCheckMetrics(text);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('the alert rules pass promtool check rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', 'aegis-alerts.rules.yml'], { cwd: rulesDir });
    expect(stdout).toContain('SUCCESS');
  });

  it('the alert rules pass their promtool unit tests', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', 'aegis-alerts.test.yml'], { cwd: rulesDir });
    expect(stdout).toContain('SUCCESS');
  });
});
