/**
 * `aegis relay` — runs the outbox relay (SPEC OB-4/OB-5): claims PENDING outbox rows, publishes
 * them to NATS JetStream (or Redis Streams), marks them SENT, retries 1 s/2 s/4 s then FAILED.
 * Configured by the environment (`RELAY_POLL_INTERVAL`, `RELAY_BATCH_SIZE`, `DATABASE_URL`,
 * `NATS_URL`, …; see docs/outbox.md). SIGTERM/SIGINT drain the batch in flight, then exit 0.
 */
import type { Command } from 'commander';
import { pino } from 'pino';
import { resolveOutboxSettings, startRelayProcess } from '@aegis-ipc/outbox';

interface RelayOptions {
  batchSize?: string;
  pollInterval?: string;
  sink?: string;
}

export function register(program: Command): void {
  program
    .command('relay')
    .description('publish the transactional outbox to NATS JetStream (or Redis Streams) until stopped')
    .option('--batch-size <n>', 'rows claimed per transaction (default RELAY_BATCH_SIZE or 100)')
    .option('--poll-interval <seconds>', 'fallback poll when no NOTIFY arrives (default RELAY_POLL_INTERVAL or 5)')
    .option('--sink <nats|redis>', 'broker to publish to (default RELAY_SINK or nats)')
    .action(async (opts: RelayOptions) => {
      // Flags are applied as the environment variables they stand for, so they are validated
      // by the same settings declarations.
      const settings = resolveOutboxSettings({
        ...process.env,
        ...(opts.batchSize !== undefined && { RELAY_BATCH_SIZE: opts.batchSize }),
        ...(opts.pollInterval !== undefined && { RELAY_POLL_INTERVAL: opts.pollInterval }),
        ...(opts.sink !== undefined && { RELAY_SINK: opts.sink }),
      });
      const logger = pino({ name: 'aegis-relay', level: settings.logLevel });
      // Off unless OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_* ask for export (ADR 0004); then the
      // relay's publish spans continue the traces stored with the rows.
      const { startTracing } = await import('@aegis-ipc/router/tracing');
      const tracing = startTracing('aegis-relay');
      const handle = await startRelayProcess(settings, { logger });
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          logger.info({ signal }, 'draining relay');
          handle
            .close()
            .then(() => tracing.shutdown())
            .then(resolve, (err: unknown) => {
              logger.error({ err }, 'relay did not close cleanly');
              process.exitCode = 1;
              resolve();
            });
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
