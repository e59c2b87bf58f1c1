import { type DrizzleConfig, sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { isDatabaseUnreachable } from './database-unreachable.js';

/** How long a transaction whose commit went unanswered looks for what became of it. */
const COMMIT_LOOKUP_MS = 5000;

/**
 * Makes `db`'s transactions on `pool` sound against connections lost under them:
 * - each takes its connection itself and always gives it back. drizzle-orm 0.45 runs `begin` before
 *   the guard that releases the connection, so one lost at that moment stayed lent out for good
 *   (drizzle-team/drizzle-orm#6241): a server restart under load could leave the pool empty. The
 *   pool drops one given back lost (pg-pool looks at the client);
 * - one whose connection is lost after its `commit` was sent asks the server whether it committed,
 *   and if so succeeds: the change stands, and what follows a commit (telling the media plane,
 *   waking the callbacks) must happen, or a recording is left started or stopped in the database
 *   alone. It costs one statement per transaction, to learn its id.
 * `config` is the one `db` was made with: the same queries run on each connection.
 */
export function poolTransactions<Schema extends Record<string, unknown>>(db: NodePgDatabase<Schema>, pool: pg.Pool, config: DrizzleConfig<Schema>): void {
  // drizzle on a single client runs begin, commit and rollback on it and never releases it.
  const onClient = new WeakMap<pg.PoolClient, NodePgDatabase<Schema>>();
  db.transaction = async (work, transactionConfig) => {
    const client = await pool.connect();
    let committing: { xid: string; result: Awaited<ReturnType<typeof work>> } | undefined;
    try {
      let bound = onClient.get(client);
      if (!bound) onClient.set(client, (bound = drizzle(client, config)));
      return await bound.transaction(async (tx) => {
        const result = await work(tx);
        const { rows } = await tx.execute<{ xid: string | null }>(sql`select txid_current_if_assigned()::text as xid`);
        // A transaction that wrote nothing has no id, and nothing to lose.
        if (rows[0]?.xid) committing = { xid: rows[0].xid, result };
        return result;
      }, transactionConfig);
    } catch (error) {
      if (committing && isDatabaseUnreachable(error) && (await committedAfterAll(pool, committing.xid))) return committing.result;
      throw error;
    } finally {
      client.release();
    }
  };
}

/** Whether the transaction committed, asked on another connection; false when that cannot be learnt in time. */
async function committedAfterAll(pool: pg.Pool, xid: string): Promise<boolean> {
  const deadline = performance.now() + COMMIT_LOOKUP_MS;
  for (;;) {
    try {
      const { rows } = await pool.query<{ status: string | null }>('select txid_status($1::bigint) as status', [xid]);
      // 'in progress': the server has yet to notice the lost connection and end the transaction.
      if (rows[0]?.status !== 'in progress') return rows[0]?.status === 'committed';
    } catch (error) {
      if (!isDatabaseUnreachable(error)) return false;
    }
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
