/** {@link Queryable} over a `pg` pool or pool client: one statement (or simple message) per call. */
import type pg from 'pg';
import type { NamedStatement, Queryable } from './database.js';

export class PgQueryable implements Queryable {
  constructor(private readonly client: pg.Pool | pg.PoolClient) {}
  async query<R extends object>(sql: string | NamedStatement, params: readonly unknown[] = []): Promise<R[]> {
    const result =
      typeof sql === 'string'
        ? await this.client.query<R>(sql, params as unknown[])
        : await this.client.query<R>({ name: sql.name, text: sql.text, values: params as unknown[] });
    return lastRows(result);
  }
}

/**
 * Several statements without parameters (simple protocol) give one result each: like PGlite,
 * the last one's rows are the answer.
 */
export function lastRows<R extends object>(result: pg.QueryResult<R> | Array<pg.QueryResult<R>>): R[] {
  return Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows;
}
