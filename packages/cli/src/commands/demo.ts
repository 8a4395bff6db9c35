/**
 * `aegis demo` — round robin, failover and recovery in one command on embedded defaults: a
 * router in this process, three echo instances as child processes, a caller loop and a live
 * per-second distribution; one instance is SIGKILLed and restarted; a summary is printed and
 * the command exits by itself (about 25 s). Exit code 1 when a call failed or detection took
 * longer than 5 s — a demo must not claim what it did not show. See docs/demo.md.
 */
import type { Command } from 'commander';
import { runDemo, type DemoSummary } from '../demo/demo-scenario.js';
import { printError, printJson, printTable, type OutputOptions } from '../output.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('start a router, 3 echo instances and a caller; show round robin, kill one instance, show failover and recovery (≈25 s)')
    .option('--json', 'print only the summary, as JSON')
    .action(async (opts: OutputOptions) => {
      const abort = new AbortController();
      const interrupt = () => abort.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        const summary = await runDemo(opts.json ? () => {} : (line) => process.stdout.write(`${line}\n`), abort.signal);
        if (opts.json) printJson(summary);
        else printSummary(summary);
        if (!summary.passed) process.exitCode = 1;
      } catch (err) {
        printError(err, opts.json);
      } finally {
        process.removeListener('SIGINT', interrupt);
        process.removeListener('SIGTERM', interrupt);
      }
      // Everything was closed above; exit explicitly so a stray handle cannot keep the demo alive.
      process.exit(process.exitCode ?? 0);
    });
}

function printSummary(s: DemoSummary): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out('\nsummary');
  printTable(Object.entries(s.per_instance).map(([instance, calls]) => ({ instance, calls, share: `${((calls / Math.max(1, s.ok)) * 100).toFixed(1)} %` })), ['instance', 'calls', 'share']);
  out(`calls ${s.calls}, ok ${s.ok}, errors ${s.errors}${s.errors > 0 ? ` ${JSON.stringify(s.error_codes)}` : ''} (${s.errors_during_failover} while ${s.killed_instance} was down)`);
  out(`steady round robin: max/min calls per instance ${s.steady_spread}`);
  out(`failure detection: ${s.killed_instance} out of rotation ${(s.detection_ms / 1000).toFixed(2)} s after SIGKILL; back ${(s.recovery_ms / 1000).toFixed(2)} s after restart`);
  out(`${s.passed ? '✓ every call succeeded and the failure was detected in under 5 s' : '✗ the demo did not show what it should (see above)'} — ${s.duration_s} s in total`);
}
