/**
 * Idempotency strength 2: a PostgreSQL transactional inbox. The handler receives the transaction
 * (a `pg` PoolClient inside BEGIN); its writes and the inbox row of the message id commit
 * together. A redelivery after a crash either finds the row (effects committed → stored response)
 * or not (nothing committed → process again): effects written through the transaction happen
 * exactly once. Effects outside it (HTTP calls, e-mails) are still at-least-once.
 */
import type { Pool } from 'pg';
import { decode, encode } from '@aegis-ipc/protocol';
import type { GuardInput, GuardResult, IdempotencyGuard } from '../idempotency-guard.js';
import { storageFailure } from '../message-status.js';
import { claimInboxRow } from './sql/claim-inbox-row.js';
import { storeInboxResponse } from './sql/store-inbox-response.js';
import { readInboxResponse } from './sql/read-inbox-response.js';

export function inboxGuard(pool: Pool, responseTtlMs: number): IdempotencyGuard {
  return {
    kind: 'inbox',
    responseTtlMs,
    async run(input: GuardInput, invoke, afterEffect): Promise<GuardResult> {
      let tx;
      try {
        tx = await pool.connect();
      } catch (err) {
        throw storageFailure('cannot get a PostgreSQL connection for the inbox', err);
      }
      let committed = false;
      try {
        await tx.query('BEGIN');
        if (!(await claimInboxRow(tx, input.messageId, input.serviceName))) {
          await tx.query('ROLLBACK');
          committed = true;
          const stored = await readInboxResponse(pool, input.messageId);
          return { kind: 'duplicate', response: stored == null ? null : decode(stored) };
        }
        const response = await invoke(tx);
        await storeInboxResponse(tx, input.messageId, encode(response ?? null));
        await tx.query('COMMIT');
        committed = true;
        afterEffect();
        return { kind: 'processed', response, completion: Promise.resolve() };
      } catch (err) {
        if (!committed) await tx.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        tx.release();
      }
    },
  };
}
