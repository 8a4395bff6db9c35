/**
 * Runs the `aegis` command as a user would, as a child process, for the CLI's integration tests.
 * It starts `src/main.ts` through tsx — what `bin/aegis.js` re-runs in a checkout — so each case
 * costs one Node start, not two. Never throws: a failing command is a result with its exit code.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface AegisRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `aegis <args>` with exactly `env` (pass `{ ...process.env, … }` to inherit); killed after `timeoutMs`. */
export async function runAegis(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 50_000): Promise<AegisRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--conditions=source', '--import', 'tsx', main, ...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number | string; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout, stderr: e.stderr };
  }
}
