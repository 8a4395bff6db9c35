/**
 * Echo instances (examples/echo) as real child processes for the fault tests, so SIGKILL and
 * SIGSTOP hit a separate process with its own NATS connection — the failures RT-3/RT-7 are about.
 * `stopAll()` SIGCONTs and SIGKILLs whatever is left; call it in afterAll.
 */
import { fileURLToPath } from 'node:url';
import { TEST_NATS_URL, spawnTs, type SpawnedProcess } from '@aegis-ipc/testing';

const ECHO_ENTRY = fileURLToPath(new URL('../../../../examples/echo/src/echo-service.ts', import.meta.url));
/**
 * Generous: each child loads the whole SDK through tsx, and on the shared 2-core machine (load
 * average 15–20 while others typecheck and test) one start has taken 7 s alone and over 30 s
 * five at a time. Start-up is not what these tests measure.
 */
export const READY_TIMEOUT_MS = 90_000;

export class EchoProcesses {
  readonly serviceName: string;
  readonly #children = new Map<string, SpawnedProcess>();

  constructor(serviceName: string) {
    this.serviceName = serviceName;
  }

  /** Starts `ids` in parallel and resolves once each printed `READY <id>`. */
  async start(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.map((id) => {
        const child = spawnTs(ECHO_ENTRY, ['--service', this.serviceName, '--instance', id, '--nats', TEST_NATS_URL], { AEGIS_LOG_LEVEL: 'error' });
        this.#children.set(id, child);
        return child.waitForLine(new RegExp(`^READY ${id}$`), READY_TIMEOUT_MS);
      }),
    );
  }

  signal(id: string, signal: NodeJS.Signals): void {
    const child = this.#children.get(id);
    if (child === undefined) throw new Error(`no echo process ${id}`);
    child.kill(signal);
  }

  exited(id: string): Promise<number | null> {
    const child = this.#children.get(id);
    if (child === undefined) throw new Error(`no echo process ${id}`);
    return child.exited;
  }

  /** Kills every child still running (a stopped one is continued first so the kill is immediate). */
  async stopAll(): Promise<void> {
    const running = [...this.#children.values()].filter((c) => c.child.exitCode === null && c.child.signalCode === null);
    for (const c of running) {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    }
    await Promise.all(running.map((c) => c.exited));
    this.#children.clear();
  }
}
