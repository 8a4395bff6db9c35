/**
 * Runs a TypeScript entry file as a separate Node process (through tsx, with the `source`
 * condition) so chaos tests can SIGKILL/SIGSTOP real processes. Every child is killed on exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface SpawnedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Lines written to stdout so far. */
  readonly lines: string[];
  /** Resolves with the first stdout line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
}

/**
 * Extra Node flags for every child, space-separated — e.g. `AEGIS_CHILD_NODE_FLAGS="--cpu-prof
 * --cpu-prof-dir=/tmp/prof"` to profile a benchmark's router and instances (Node refuses
 * `--cpu-prof` in NODE_OPTIONS).
 */
const EXTRA_NODE_FLAGS = (process.env.AEGIS_CHILD_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');

export function spawnTs(entry: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): SpawnedProcess {
  const child = spawn(process.execPath, [...EXTRA_NODE_FLAGS, '--conditions=source', '--import', 'tsx', entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  let buffer = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    if (process.env.AEGIS_TEST_CHILD_STDERR) process.stderr.write(chunk);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  return {
    child,
    pid: child.pid ?? -1,
    lines,
    exited,
    kill: (signal = 'SIGKILL') => child.kill(signal),
    waitForLine(pattern, timeoutMs = 20_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}
