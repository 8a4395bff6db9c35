/**
 * `aegis demo` end to end: a router in this process (own KV bucket, short heartbeat timeout), three
 * echo instances as child processes, a caller loop, a live per-second distribution; then one
 * instance is SIGKILLed (failover, detection), restarted (recovery), and a summary is returned.
 * Everything it started is stopped, and its bucket deleted, whatever happens.
 */
import { createServer } from 'node:net';
import { Router, resolveRouterSettings } from '@aegis-ipc/router';
import { connect, type AegisClient } from '@aegis-ipc/sdk';
import { AegisError } from '@aegis-ipc/protocol';
import { CallerLoop } from './caller-loop.js';
import { DEMO_SETTINGS, type DemoSettings } from './demo-settings.js';
import { EchoFleet } from './echo-fleet.js';
import { renderTick, spread } from './distribution-view.js';
import { assertNoOtherRouter } from './other-router-probe.js';

export interface DemoSummary {
  readonly calls: number;
  readonly ok: number;
  readonly errors: number;
  readonly error_codes: Record<string, number>;
  readonly per_instance: Record<string, number>;
  /** Max/min calls per instance while all were up (1 = perfectly even). */
  readonly steady_spread: number;
  readonly killed_instance: string;
  /** From SIGKILL to the router taking the instance out of rotation (ms). */
  readonly detection_ms: number;
  /** Calls that failed between the kill and the recovery. */
  readonly errors_during_failover: number;
  /** From restarting the process to the instance being back in rotation (ms, includes process start). */
  readonly recovery_ms: number;
  readonly admin_url: string | undefined;
  readonly duration_s: number;
  /** True when no call failed and detection beat the bound. */
  readonly passed: boolean;
}

/** Where the demo writes its live lines (stdout by default; `--json` silences them). */
export type DemoOutput = (line: string) => void;

export async function runDemo(out: DemoOutput, signal: AbortSignal, settings: DemoSettings = DEMO_SETTINGS): Promise<DemoSummary> {
  const startedAt = performance.now();
  const elapsedS = () => (performance.now() - startedAt) / 1000;
  const bucket = `aegis_demo_${globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const ids = Array.from({ length: settings.instances }, (_, i) => `${settings.serviceName}-${i + 1}`);
  const victim = ids[Math.min(1, ids.length - 1)] ?? ids[0]!;
  const service = settings.serviceName;

  await assertNoOtherRouter(resolveRouterSettings().natsUrl);
  const router = await Router.start({
    registryBucket: bucket,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    heartbeatTimeoutMs: settings.heartbeatTimeoutMs,
    routeAttemptTimeoutMs: settings.routeAttemptTimeoutMs,
    breakerOpenMs: settings.breakerOpenMs,
    httpPort: (await isPortFree(settings.preferredHttpPort)) ? settings.preferredHttpPort : 0,
    logLevel: 'error',
  });
  let client: AegisClient | undefined;
  let fleet: EchoFleet | undefined;
  let loop: CallerLoop | undefined;
  let ticker: NodeJS.Timeout | undefined;
  try {
    const natsUrl = `nats://${router.nc.getServer()}`;
    out(`router started (NATS ${natsUrl}, admin API ${router.url ?? 'off'}, bucket ${bucket}, heartbeat timeout ${settings.heartbeatTimeoutMs} ms)`);
    const echo = new EchoFleet(service, natsUrl, settings.startLimitMs);
    fleet = echo;
    await Promise.all(ids.map((id) => echo.start(id)));
    await until(() => router.registry.online(service).length === ids.length, settings.waitLimitMs, signal, 'all instances to be ONLINE');
    out(`${ids.length} instances of ${service} ONLINE: ${ids.join(', ')} — calling ${settings.callers}× in a loop\n`);

    client = await connect({ servers: natsUrl, name: 'aegis-demo-caller' });
    const calls = new CallerLoop(client, { serviceName: service, callers: settings.callers, pauseMs: settings.callPauseMs, timeoutMs: settings.callTimeoutMs });
    loop = calls;
    const status = (id: string) => router.registry.get(id)?.record.status ?? '-';
    const tick = () => out(renderTick(elapsedS(), calls.window(), ids.map((instanceId) => ({ instanceId, status: status(instanceId) }))));
    calls.beginPhase('steady');
    calls.start();
    ticker = setInterval(tick, settings.tickMs);
    await sleep(settings.steadyS * 1000, signal);

    calls.beginPhase('failover');
    const killedAt = performance.now();
    const pid = echo.kill(victim);
    out(`\n▶ SIGKILL ${victim} (pid ${pid}) — a crash, no unregister: the router must notice by itself`);
    await until(() => !router.registry.online(service).some((i) => i.instance_id === victim), settings.waitLimitMs, signal, `${victim} to leave rotation`);
    const detectionMs = performance.now() - killedAt;
    out(`✓ ${victim} out of rotation after ${(detectionMs / 1000).toFixed(2)} s (${status(victim)}); calls keep succeeding on the others\n`);
    await sleep(Math.max(0, settings.afterKillS * 1000 - detectionMs), signal);

    out(`\n▶ restarting ${victim}`);
    const restartAt = performance.now();
    const answeredBefore = calls.total.byInstance.get(victim) ?? 0;
    await echo.start(victim);
    out(`  ${victim} registered again after ${((performance.now() - restartAt) / 1000).toFixed(2)} s (process start included)`);
    // Back in rotation = answering calls again, not merely ONLINE in the registry.
    await until(() => (calls.total.byInstance.get(victim) ?? 0) > answeredBefore, settings.waitLimitMs, signal, `${victim} to answer calls again`);
    const recoveryMs = performance.now() - restartAt;
    calls.beginPhase('recovered');
    out(`✓ ${victim} answering calls again ${(recoveryMs / 1000).toFixed(2)} s after the restart\n`);
    await sleep(settings.afterRecoveryS * 1000, signal);

    clearInterval(ticker);
    await calls.stop();
    const total = calls.total;
    const steady = calls.phase('steady');
    return {
      calls: total.ok + total.errors,
      ok: total.ok,
      errors: total.errors,
      error_codes: Object.fromEntries(total.byError),
      per_instance: Object.fromEntries(ids.map((id) => [id, total.byInstance.get(id) ?? 0])),
      steady_spread: Number(spread(steady, ids).toFixed(3)),
      killed_instance: victim,
      detection_ms: Math.round(detectionMs),
      errors_during_failover: calls.phase('failover').errors,
      recovery_ms: Math.round(recoveryMs),
      admin_url: router.url,
      duration_s: Number(elapsedS().toFixed(1)),
      passed: total.errors === 0 && detectionMs < settings.detectionBoundMs,
    };
  } finally {
    clearInterval(ticker);
    await loop?.stop();
    // Instances unregister through the router, so they stop before it does.
    await fleet?.close();
    await router.close();
    await deleteBucket(client, bucket);
    await client?.close();
  }
}

/**
 * Deletes the demo's registry bucket through the JetStream API subject, so the CLI needs no
 * JetStream client dependency of its own for one cleanup call.
 */
async function deleteBucket(client: AegisClient | undefined, bucket: string): Promise<void> {
  if (client === undefined || client.nc.isClosed()) return;
  try {
    await client.nc.request(`$JS.API.STREAM.DELETE.KV_${bucket}`, undefined, { timeout: 5_000 });
  } catch {
    // Best effort: a leftover demo bucket is harmless and named aegis_demo_*.
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AegisError('CLOSED', 'demo interrupted'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AegisError('CLOSED', 'demo interrupted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Polls `condition` every 20 ms (fine enough for second-scale detection times). */
async function until(condition: () => boolean, limitMs: number, signal: AbortSignal, what: string): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new AegisError('TIMEOUT', `demo: gave up waiting ${limitMs} ms for ${what}`);
    await sleep(20, signal);
  }
}
