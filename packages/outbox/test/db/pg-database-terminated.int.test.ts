import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { TEST_DATABASE_URL } from '@aegis-ipc/testing';
import { PgDatabase } from '../../src/index.js';

/**
 * A backend terminated (`pg_terminate_backend`, a server restart) just as it became ready sends
 * its `ReadyForQuery` and the FATAL 57P01 `ErrorResponse` back to back; node-postgres can read
 * both in one chunk. pg-pool hands the new client out on the `ReadyForQuery` (dropping its idle
 * 'error' listener) and the parser goes on to the FATAL in the same synchronous loop, before the
 * caller's continuation could add a listener: an 'error' with no listener is an uncaught
 * exception (the flaky "1 unhandled error" of relay-failures.int.test.ts). This proxy makes that
 * interleaving certain: it forwards the server's start-up messages up to the first
 * `ReadyForQuery` and writes a FATAL right after it, in the same write.
 */
describe('PgDatabase with a backend terminated as it became ready', () => {
  let proxy: net.Server;
  let url: string;
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    const target = new URL(TEST_DATABASE_URL);
    proxy = net.createServer((client) => {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      const server = net.connect(Number(target.port || 5432), target.hostname);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
      client.pipe(server);
      let pending = Buffer.alloc(0);
      server.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        // Server messages: type byte, int32 length (itself included), body.
        for (let at = 0; at + 5 <= pending.length; ) {
          const end = at + 1 + pending.readInt32BE(at + 1);
          if (end > pending.length) break;
          if (pending[at] === 0x5a /* 'Z' ReadyForQuery */) {
            client.end(Buffer.concat([pending.subarray(0, end), fatal57P01()]));
            server.destroy();
            return;
          }
          at = end;
        }
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address() as net.AddressInfo;
    const u = new URL(TEST_DATABASE_URL);
    u.hostname = '127.0.0.1';
    u.port = String(address.port);
    url = u.toString();
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy(); // close() would wait for half-closed proxy sockets
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('fails the transaction as a connection error and raises no uncaught error', async () => {
    const db = new PgDatabase({ connectionString: url, poolSize: 2, applicationName: 'aegis-pgdb-terminated' });
    try {
      for (let i = 0; i < 3; i++) {
        const err = await db.transaction((tx) => tx.query('SELECT 1')).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(err?.message).toMatch(/not queryable|terminat/i);
      }
      await expect(db.query('SELECT 1')).rejects.toThrow(/not queryable|terminat/i);
    } finally {
      await db.close();
    }
  });
});

/** ErrorResponse: severity FATAL, SQLSTATE 57P01, as PostgreSQL sends on pg_terminate_backend. */
function fatal57P01(): Buffer {
  const fields = Buffer.concat([
    Buffer.from('SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0', 'utf8'),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(5);
  head[0] = 0x45; // 'E'
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}
