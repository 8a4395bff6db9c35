/**
 * The context a handler receives for an exactly-once call: the usual {@link CallContext} plus
 * the inbox transaction when the receiver uses a PostgreSQL inbox.
 */
import type { PoolClient } from 'pg';
import { AegisError } from '@aegis-ipc/protocol';
import type { CallContext } from '../instance/call-context.js';

export interface ReliableCallContext extends CallContext {
  readonly messageId: string;
  /** Broker delivery number (1 = first). */
  readonly deliveryCount: number;
  /** The inbox transaction: write your effects through it so they commit with the inbox row. */
  readonly tx: PoolClient | undefined;
}

/**
 * The inbox transaction of the call being handled.
 * @throws AegisError `CONFIG_INVALID` when the call is not an exactly-once call on an inbox receiver.
 * @example
 * instance.handle('charge', async (params, ctx) => {
 *   await inboxTransaction(ctx).query('INSERT INTO charges …', […]);
 *   return { ok: true };
 * });
 */
export function inboxTransaction(ctx: CallContext): PoolClient {
  const tx = (ctx as Partial<ReliableCallContext>).tx;
  if (tx === undefined) throw new AegisError('CONFIG_INVALID', 'no inbox transaction: the method was not called reliably on a receiver with a PostgreSQL inbox');
  return tx;
}
