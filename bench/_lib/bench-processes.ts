/**
 * The processes the routing benchmark measures, started once per run: a raw responder, a raw
 * 2-hop forwarder in front of it, and an AegisIPC router with one echo instance. Each role is
 * its own process in both designs (caller = the bench process | forwarder or router | responder
 * or instance), so the comparison is like for like. `close()` stops them all and deletes the
 * bench's KV bucket, also after a failure.
 */
import { fileURLToPath } from 'node:url';
import { TEST_NATS_URL, connectTestNats, deleteBuckets, spawnTs, uniqueName, type SpawnedProcess } from '@aegis-ipc/testing';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const ECHO_SERVICE_ENTRY = here('../../examples/echo/src/echo-service.ts');
/** How long a child gets to print READY (tsx compiles on first start; the machine is shared). */
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3_000;

export interface BenchProcesses {
  readonly natsUrl: string;
  /** 1 hop: requests here are answered by the raw responder. */
  readonly rawServiceSubject: string;
  /** 2 hops: requests here go through the raw forwarder to the raw responder. */
  readonly rawRouteSubject: string;
  /** AegisIPC: the service name the echo instance registered. */
  readonly serviceName: string;
  readonly instanceId: string;
  readonly bucket: string;
  /** Process ids, for CPU per call. */
  readonly pids: { readonly rawResponder: number; readonly rawForwarder: number; readonly router: number; readonly echo: number };
  close(): Promise<void>;
}

export async function startBenchProcesses(): Promise<BenchProcesses> {
  const runId = uniqueName('bench');
  const natsUrl = TEST_NATS_URL;
  const rawServiceSubject = `bench.${runId}.svc`;
  const rawRouteSubject = `bench.${runId}.route`;
  const serviceName = runId;
  const instanceId = `${runId}-echo-1`;
  const bucket = `${runId}_registry`;
  const children: SpawnedProcess[] = [];
  const spawn = (entry: string, args: string[], env: NodeJS.ProcessEnv) => {
    const child = spawnTs(entry, args, { NATS_URL: natsUrl, AEGIS_LOG_LEVEL: 'warn', ...env });
    children.push(child);
    return child;
  };
  const close = async () => {
    // Newest first: the echo instance unregisters while its router is still there to answer.
    for (const child of [...children].reverse()) await stopChild(child);
    const nc = await connectTestNats('bench-cleanup');
    try {
      await deleteBuckets(nc, [bucket]);
    } finally {
      await nc.close();
    }
  };
  try {
    const rawResponder = spawn(here('./raw-responder-process.ts'), [], { RAW_SUBJECT: rawServiceSubject });
    const rawForwarder = spawn(here('./raw-forwarder-process.ts'), [], { RAW_ROUTE_SUBJECT: rawRouteSubject, RAW_TARGET_SUBJECT: rawServiceSubject });
    const router = spawn(here('./router-process.ts'), [], { AEGIS_REGISTRY_BUCKET: bucket });
    await Promise.all([rawResponder, rawForwarder, router].map((c) => c.waitForLine(/^READY/, READY_TIMEOUT_MS)));
    // The instance registers with the router, so it starts after the router is up.
    const echo = spawn(ECHO_SERVICE_ENTRY, ['--service', serviceName, '--instance', instanceId, '--nats', natsUrl], {});
    await echo.waitForLine(/^READY /, READY_TIMEOUT_MS);
    const pids = { rawResponder: rawResponder.pid, rawForwarder: rawForwarder.pid, router: router.pid, echo: echo.pid };
    return { natsUrl, rawServiceSubject, rawRouteSubject, serviceName, instanceId, bucket, pids, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** SIGTERM, then SIGKILL if the child has not exited within the grace period. */
async function stopChild(child: SpawnedProcess): Promise<void> {
  if (child.child.exitCode !== null || child.child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([child.exited, graceOver]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await child.exited;
  }
}
