/**
 * RT-3/RT-4 with a paused process: an echo instance is SIGSTOPped under load (alive socket, no
 * answers, no heartbeats), so calls routed to it must time out and fail over, and the router must
 * take it out of rotation. After SIGCONT it answers everything it had queued — late replies for
 * calls that were already answered elsewhere. None of them may reach a caller as the answer to
 * another call: every reply must echo its own request id.
 *
 * A passive subscription on the paused instance's inbox sees every request sent to it and
 * listens on each one's reply subject, so the test can count the late replies it proves harmless.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { connect, type AegisClient } from '@aegis-ipc/sdk';
import { instanceInboxSubject } from '@aegis-ipc/protocol';
import type { Router } from '@aegis-ipc/router';
import { TEST_NATS_URL, connectTestNats, uniqueName, waitFor } from '@aegis-ipc/testing';
import { routerHarness } from '../router-harness.js';
import { EchoProcesses, READY_TIMEOUT_MS } from './echo-processes.js';
import { SteadyLoad, countByInstance } from './steady-load.js';

/** Short attempt timeout so the calls stuck on the paused instance fail over within the test. */
const ATTEMPT_TIMEOUT_MS = 1_000;
/**
 * The router quarantines an instance that timed out (its per-instance breaker) for breakerOpenMs
 * even after its heartbeats bring it back ONLINE; shortened so the return is seen in the test.
 */
const QUARANTINE_MS = 3_000;
const REMOVAL_BOUND_MS = 5_000;

describe('SIGSTOP an instance process under load, then SIGCONT it', () => {
  const harness = routerHarness({ routeAttemptTimeoutMs: ATTEMPT_TIMEOUT_MS, breakerOpenMs: QUARANTINE_MS });
  const service = uniqueName('faultstop');
  const ids = [`${service}-1`, `${service}-2`, `${service}-3`];
  const victim = ids[1]!;
  const fleet = new EchoProcesses(service);
  let router: Router;
  let client: AegisClient | undefined;
  let observer: NatsConnection | undefined;

  beforeAll(async () => {
    router = await harness.start();
    await fleet.start(ids);
    await waitFor(() => router.registry.online(service).length === ids.length, { timeoutMs: 30_000, what: 'three ONLINE instances' });
    client = await connect({ servers: TEST_NATS_URL, name: 'fault-sigstop-caller' });
    observer = await connectTestNats('fault-sigstop-observer');
  }, READY_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await observer?.close();
    await client?.close();
    await fleet.stopAll();
    await harness.cleanup();
  });

  it('removes the paused instance and no late reply becomes a wrong answer', async () => {
    const load = new SteadyLoad(client!, { serviceName: service, callers: 6, pauseMs: 20, maxMs: 30_000 });
    load.start();
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    // From the pause on, watch what is sent to the victim and what comes back on those replies.
    let sentToPaused = 0;
    let lateReplies = 0;
    let pausedAt = Number.POSITIVE_INFINITY;
    let resumedAt = Number.POSITIVE_INFINITY;
    const replyWatches: Subscription[] = [];
    const inboxWatch = observer!.subscribe(instanceInboxSubject(victim), {
      callback: (err, msg) => {
        // Only requests that reach the process while it is stopped can be answered late.
        const now = Date.now();
        if (err !== null || msg.reply === undefined || now < pausedAt || now >= resumedAt) return;
        sentToPaused++;
        replyWatches.push(observer!.subscribe(msg.reply, { max: 1, callback: () => {
          if (Date.now() >= resumedAt) lateReplies++;
        } }));
      },
    });
    await observer!.flush();

    pausedAt = Date.now();
    fleet.signal(victim, 'SIGSTOP');
    await waitFor(() => !router.registry.online(service).some((i) => i.instance_id === victim), { timeoutMs: 10_000, intervalMs: 10, what: `${victim} to leave rotation` });
    const removalMs = Date.now() - pausedAt;
    const statusWhilePaused = router.registry.get(victim)?.record.status;
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    resumedAt = Date.now();
    fleet.signal(victim, 'SIGCONT');
    // RT-3: healthy again → back in rotation: ONLINE in the registry as soon as heartbeats
    // resume, answering calls again once the router's quarantine is over.
    await waitFor(() => router.registry.online(service).some((i) => i.instance_id === victim), { timeoutMs: 10_000, intervalMs: 20, what: `${victim} to be ONLINE again` });
    const onlineMs = Date.now() - resumedAt;
    const answeredAgain = await waitFor(() => load.records.find((r) => r.instanceId === victim && r.startedAt > resumedAt), { timeoutMs: QUARANTINE_MS + 7_000, intervalMs: 20, what: `${victim} to answer calls again` });
    const returnMs = answeredAgain.endedAt - resumedAt;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await load.stop();
    inboxWatch.unsubscribe();
    for (const w of replyWatches) w.unsubscribe();

    const records = load.records;
    const failed = records.filter((r) => r.error !== undefined);
    const wrong = records.filter((r) => r.wrongAnswer === true);
    const failedOver = records.filter((r) => r.startedAt >= pausedAt && r.startedAt < resumedAt && r.endedAt - r.startedAt >= ATTEMPT_TIMEOUT_MS).length;
    const afterReturn = countByInstance(records.filter((r) => r.startedAt > answeredAgain.endedAt));
    console.info(
      `[faults/sigstop] calls ${records.length}, failed ${failed.length}, wrong answers ${wrong.length}, removed after ${removalMs} ms (${statusWhilePaused}), ` +
        `sent to the paused instance ${sentToPaused}, late replies seen ${lateReplies}, calls failed over after a ${ATTEMPT_TIMEOUT_MS} ms attempt timeout ${failedOver}, ` +
        `ONLINE again ${onlineMs} ms and answering again ${returnMs} ms after SIGCONT, calls after that ${JSON.stringify(Object.fromEntries(afterReturn))}`,
    );

    expect(failed.map((r) => r.error)).toEqual([]);
    expect(wrong).toHaveLength(0);
    expect(removalMs).toBeLessThan(REMOVAL_BOUND_MS);
    expect(statusWhilePaused).toBe('UNHEALTHY');
    // The scenario really happened: requests reached the paused process and it answered late.
    expect(sentToPaused).toBeGreaterThan(0);
    expect(lateReplies).toBeGreaterThan(0);
    expect(afterReturn.get(victim) ?? 0).toBeGreaterThan(0);
  });
});
