/**
 * RT-3/RT-7 with real processes: five echo instances under steady load, one SIGKILLed (a crash:
 * no unregister). Every call must still succeed (failover), the router must take the dead
 * instance out of rotation in under 5 s with the default heartbeat settings, and the calls that
 * follow must spread evenly over the four survivors. Figures are printed for the issue note.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type AegisClient } from '@aegis-ipc/sdk';
import type { Router } from '@aegis-ipc/router';
import { TEST_NATS_URL, uniqueName, waitFor } from '@aegis-ipc/testing';
import { routerHarness } from '../router-harness.js';
import { EchoProcesses, READY_TIMEOUT_MS } from './echo-processes.js';
import { SteadyLoad, countByInstance, maxMinRatio } from './steady-load.js';

const INSTANCES = 5;
const DETECTION_BOUND_MS = 5_000;
/** Round robin over one router should be near exact; this bound only allows for failover noise. */
const MAX_SURVIVOR_SPREAD = 1.25;

describe('SIGKILL one of 5 instance processes under steady load', () => {
  const harness = routerHarness();
  const service = uniqueName('faultkill');
  const ids = Array.from({ length: INSTANCES }, (_, i) => `${service}-${i + 1}`);
  const victim = ids[2]!;
  const fleet = new EchoProcesses(service);
  let router: Router;
  let client: AegisClient | undefined;

  beforeAll(async () => {
    // Default heartbeat settings on purpose (1 s interval, 3 s timeout): the < 5 s claim is theirs.
    router = await harness.start();
    await fleet.start(ids);
    await waitFor(() => router.registry.online(service).length === INSTANCES, { timeoutMs: 30_000, what: 'five ONLINE instances' });
    client = await connect({ servers: TEST_NATS_URL, name: 'fault-sigkill-caller' });
  }, READY_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await client?.close();
    await fleet.stopAll();
    await harness.cleanup();
  });

  it('fails every call over, detects the crash in < 5 s, and keeps the survivors even', async () => {
    const load = new SteadyLoad(client!, { serviceName: service, callers: 8, pauseMs: 20, maxMs: 30_000 });
    load.start();
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const killedAt = Date.now();
    fleet.signal(victim, 'SIGKILL');
    await waitFor(() => !router.registry.online(service).some((i) => i.instance_id === victim), { timeoutMs: 10_000, intervalMs: 10, what: `${victim} to leave rotation` });
    const detectedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await load.stop();

    const records = load.records;
    const failed = records.filter((r) => r.error !== undefined);
    const wrong = records.filter((r) => r.wrongAnswer === true);
    const afterDetection = records.filter((r) => r.startedAt > detectedAt);
    const survivors = ids.filter((id) => id !== victim);
    const survivorCounts = countByInstance(afterDetection);
    const spread = maxMinRatio(survivorCounts, survivors);
    const slow = records.filter((r) => r.startedAt >= killedAt - 1_000 && r.endedAt - r.startedAt > 1_000).length;
    const detectionMs = detectedAt - killedAt;
    console.info(
      `[faults/sigkill] calls ${records.length}, failed ${failed.length}, wrong answers ${wrong.length}, ` +
        `detection ${detectionMs} ms (status ${router.registry.get(victim)?.record.status}), calls slowed by the crash (>1 s) ${slow}, ` +
        `after detection ${afterDetection.length} calls over survivors ${JSON.stringify(Object.fromEntries(survivorCounts))} max/min ${spread.toFixed(3)}`,
    );

    expect(failed.map((r) => r.error)).toEqual([]);
    expect(wrong).toHaveLength(0);
    expect(detectionMs).toBeLessThan(DETECTION_BOUND_MS);
    expect(router.registry.get(victim)?.record.status).toBe('UNHEALTHY');
    expect(survivorCounts.has(victim)).toBe(false);
    expect(afterDetection.length).toBeGreaterThan(100);
    expect(spread).toBeLessThanOrEqual(MAX_SURVIVOR_SPREAD);
  });
});
