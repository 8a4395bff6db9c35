/**
 * The demo's echo instances: separate processes running `examples/echo/src/echo-service.ts`,
 * so a SIGKILL is a real crash (no clean unregister), exactly what the router must detect.
 * Every child is stopped by `close()` and, as a last resort, killed when this process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AegisError } from '@aegis-ipc/protocol';

/** The repository root, seen from this file (packages/cli/src/demo/). */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const ECHO_ENTRY = fileURLToPath(new URL('../../../../examples/echo/src/echo-service.ts', import.meta.url));
const STOP_GRACE_MS = 3_000;

interface Member {
  readonly instanceId: string;
  child: ChildProcess;
}

export class EchoFleet implements AsyncDisposable {
  readonly #serviceName: string;
  readonly #natsUrl: string;
  readonly #readyTimeoutMs: number;
  readonly #members = new Map<string, Member>();
  readonly #killAll = () => {
    for (const m of this.#members.values()) if (isRunning(m.child)) m.child.kill('SIGKILL');
  };

  /** @throws AegisError `CONFIG_INVALID` when the echo example is not there (not a source checkout). */
  constructor(serviceName: string, natsUrl: string, readyTimeoutMs: number) {
    if (!existsSync(ECHO_ENTRY)) {
      throw new AegisError('CONFIG_INVALID', `aegis demo runs the example service from a source checkout; ${ECHO_ENTRY} is missing`);
    }
    this.#serviceName = serviceName;
    this.#natsUrl = natsUrl;
    this.#readyTimeoutMs = readyTimeoutMs;
    // If the demo dies abruptly, its children must not outlive it.
    process.once('exit', this.#killAll);
  }

  /** Starts (or restarts) `instanceId`; resolves with its pid once it printed `READY`. */
  async start(instanceId: string): Promise<number> {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', ECHO_ENTRY, '--service', this.#serviceName, '--instance', instanceId, '--nats', this.#natsUrl], {
      cwd: REPO_ROOT,
      env: { ...process.env, AEGIS_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#members.set(instanceId, { instanceId, child });
    await waitForReady(child, instanceId, this.#readyTimeoutMs);
    return child.pid ?? -1;
  }

  /** Crashes `instanceId` the hard way (no unregister): the router has to notice on its own. */
  kill(instanceId: string): number {
    const member = this.#members.get(instanceId);
    if (member === undefined || !isRunning(member.child)) throw new AegisError('INTERNAL', `demo instance ${instanceId} is not running`);
    member.child.kill('SIGKILL');
    return member.child.pid ?? -1;
  }

  /** Stops every instance cleanly (SIGTERM → unregister), SIGKILL after a grace period. */
  async close(): Promise<void> {
    process.removeListener('exit', this.#killAll);
    await Promise.all([...this.#members.values()].map((m) => stop(m.child)));
    this.#members.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function waitForReady(child: ChildProcess, instanceId: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    let stdout = '';
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stdout?.removeListener('data', onData);
      child.removeListener('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: string) => {
      stdout += chunk;
      if (stdout.includes(`READY ${instanceId}`)) done();
    };
    const onExit = (code: number | null) => done(new AegisError('INTERNAL', `demo instance ${instanceId} exited (${code}) before it was ready: ${stderr.trim().slice(-300)}`));
    const timer = setTimeout(() => done(new AegisError('TIMEOUT', `demo instance ${instanceId} was not ready within ${timeoutMs} ms: ${stderr.trim().slice(-300)}`)), timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2_000);
    });
    child.once('exit', onExit);
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(grace);
}
