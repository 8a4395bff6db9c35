/**
 * `aegis router` — runs a router replica on embedded defaults (what `npm start` runs). Ctrl-C or
 * SIGTERM shuts it down cleanly: stop serving, close the admin API, drain NATS, stop an embedded
 * nats-server.
 */
import type { Command } from 'commander';
import type { Router, TracingHandle } from '@aegis-ipc/router';
import { portOption } from '../option-parsers.js';
import { printError } from '../output.js';

export function register(program: Command): void {
  program
    .command('router')
    .description('run a router (registry, health, routing, admin API) — configure with environment variables, see README')
    .option('--port <port>', 'admin API port (overrides AEGIS_HTTP_PORT)', portOption)
    .action(async (opts: { port?: number }) => {
      let router: Router;
      let tracing: TracingHandle | undefined;
      try {
        // Loaded on use: `aegis --help` and the read-only commands need not load fastify and friends.
        const { Router, startTracing } = await import('@aegis-ipc/router');
        // Off unless OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_* ask for export.
        tracing = startTracing('aegis-router');
        router = await Router.start(opts.port === undefined ? {} : { httpPort: opts.port });
      } catch (err) {
        printError(err);
        process.exit(1);
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        router.logger.info({ event: 'shutdown', signal }, `received ${signal}, shutting down`);
        const force = setTimeout(() => process.exit(1), 10_000);
        force.unref();
        router
          .close()
          .then(() => tracing?.shutdown())
          .then(
          () => process.exit(0),
          (err: unknown) => {
            printError(err);
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
