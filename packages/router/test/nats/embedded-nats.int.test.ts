import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AegisError } from '@aegis-ipc/protocol';
import { Router } from '@aegis-ipc/router';

const dataDir = mkdtempSync(join(tmpdir(), 'aegis-embedded-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const logger = pino({ level: 'silent' });

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('embedded default (DESIGN "main job")', () => {
  it('starts nats-server with JetStream under the data dir when nothing answers, and stops it on close', async () => {
    const port = await freePort();
    const router = await Router.start({ natsUrl: `nats://127.0.0.1:${port}`, embeddedNats: 'auto', dataDir, httpPort: 0, logger });
    try {
      expect(await portOpen(port)).toBe(true);
      expect(router.registry.services()).toEqual([]); // KV bucket created: JetStream is on
    } finally {
      await router.close();
    }
    expect(await portOpen(port)).toBe(false);
  });

  it('fails with one clear line when embedding is off', async () => {
    const port = await freePort();
    const error = await Router.start({ natsUrl: `nats://127.0.0.1:${port}`, embeddedNats: 'never', httpPort: 0, logger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AegisError);
    expect((error as AegisError).code).toBe('CONNECTION_FAILED');
    expect((error as AegisError).message).toMatch(/start a nats-server with JetStream \(-js\) or set NATS_URL/);
  });

  it('says what to install when nats-server is not on PATH', async () => {
    const port = await freePort();
    const path = process.env.PATH;
    process.env.PATH = join(dataDir, 'empty-path');
    try {
      const error = await Router.start({ natsUrl: `nats://127.0.0.1:${port}`, embeddedNats: 'auto', dataDir, httpPort: 0, logger }).catch((e: unknown) => e);
      expect((error as AegisError).code).toBe('CONNECTION_FAILED');
      expect((error as AegisError).message).toMatch(/install it \(apt install nats-server/);
    } finally {
      process.env.PATH = path;
    }
  });
});
