/**
 * The embedded default (DESIGN "main job"): when nothing answers at NATS_URL and `nats-server`
 * is on PATH, start one with JetStream under `<dataDir>/nats`, and stop it on close.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AegisError } from '@aegis-ipc/protocol';
import type { Logger } from 'pino';

export interface NatsHandle {
  readonly nc: NatsConnection;
  /** Set when this process started its own nats-server. */
  readonly embedded?: { readonly pid: number; readonly url: string; readonly storeDir: string };
  /** Drains the connection and stops the embedded server if any. */
  close(): Promise<void>;
}

export interface ConnectNatsOptions {
  readonly url: string;
  readonly embedded: 'auto' | 'never';
  readonly dataDir: string;
  readonly name: string;
  readonly logger: Logger;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Connects to NATS, starting an embedded server when allowed and needed.
 * @throws AegisError `CONNECTION_FAILED` with one line saying what to install or set.
 */
export async function connectOrStartNats(options: ConnectNatsOptions): Promise<NatsHandle> {
  const first = await tryConnect(options.url, options.name);
  if (first.nc) return { nc: first.nc, close: () => first.nc.drain() };

  const url = new URL(options.url.split(',')[0]!.trim());
  const canEmbed = options.embedded === 'auto' && LOOPBACK.has(url.hostname);
  if (!canEmbed) {
    throw new AegisError('CONNECTION_FAILED', `cannot reach NATS at ${options.url} (${first.error}); start a nats-server with JetStream (-js) or set NATS_URL`);
  }
  const storeDir = resolve(join(options.dataDir, 'nats'));
  mkdirSync(storeDir, { recursive: true });
  const port = url.port === '' ? '4222' : url.port;
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
  let child: ChildProcess;
  try {
    child = await startServer(['-a', host, '-p', port, '-js', '-sd', storeDir]);
  } catch (err) {
    throw new AegisError(
      'CONNECTION_FAILED',
      `cannot reach NATS at ${options.url} and could not start nats-server (${(err as Error).message}); install it (apt install nats-server / brew install nats-server) or set NATS_URL`,
      { cause: err },
    );
  }
  options.logger.info({ event: 'embedded_nats_started', pid: child.pid, url: options.url, store_dir: storeDir }, `started embedded nats-server (pid ${child.pid}) with JetStream under ${storeDir}`);
  const stop = () => stopServer(child);
  try {
    const nc = await connectWithRetry(options.url, options.name);
    return {
      nc,
      embedded: { pid: child.pid ?? -1, url: options.url, storeDir },
      async close() {
        await nc.drain().catch(() => {});
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw new AegisError('CONNECTION_FAILED', `embedded nats-server did not accept connections at ${options.url}: ${(err as Error).message}`, { cause: err });
  }
}

async function tryConnect(url: string, name: string): Promise<{ nc: NatsConnection; error?: undefined } | { nc?: undefined; error: string }> {
  try {
    return { nc: await connect({ servers: url.split(','), name, timeout: 2_000, maxReconnectAttempts: -1, noAsyncTraces: true }) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function connectWithRetry(url: string, name: string): Promise<NatsConnection> {
  let lastError = '';
  for (let i = 0; i < 50; i++) {
    const attempt = await tryConnect(url, name);
    if (attempt.nc) return attempt.nc;
    lastError = attempt.error;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(lastError);
}

function startServer(args: string[]): Promise<ChildProcess> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.once('error', reject); // ENOENT when nats-server is not on PATH
    child.once('spawn', () => resolvePromise(child));
    child.stderr?.resume();
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}
