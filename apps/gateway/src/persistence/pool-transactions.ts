import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { isDatabaseUnreachable } from './database-unreachable.js';

/**
 * Makes `db`'s transactions take their connection from `pool` themselves and always give it back.
 * drizzle-orm 0.45 runs `begin` before the guard that releases the connection, so one lost at that
 * moment stayed lent out for good (drizzle-team/drizzle-orm#6241): a server restart under load
 * could leave the pool empty. A connection lost is given back with its error, and the pool drops it.
 */
export function transactionsGivingConnectionsBack<Schema extends Record<string, unknown>>(db: NodePgDatabase<Schema>, pool: pg.Pool, schema: Schema): void {
  // drizzle on a single client runs begin, commit and rollback on it and never releases it.
  const onClient = new WeakMap<pg.PoolClient, NodePgDatabase<Schema>>();
  db.transaction = async (work, config) => {
    const client = await pool.connect();
    let lost: Error | undefined;
    try {
      let bound = onClient.get(client);
      if (!bound) onClient.set(client, (bound = drizzle(client, { schema })));
      return await bound.transaction(work, config);
    } catch (error) {
      if (isDatabaseUnreachable(error)) lost = error as Error;
      throw error;
    } finally {
      client.release(lost);
    }
  };
}
