import { type DrizzleConfig, sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { isDatabaseUnreachable } from './database-unreachable.js';

/** How long a transaction whose commit went unanswered looks for what became of it before it answers. */
const COMMIT_LOOKUP_MS = 5000;
const LOOKUP_PAUSE_MS = 250;

/**
 * A transaction whose commit went unanswered, and whose fate the server could not be asked in time:
 * the request fails as the database's (its cause), but the change may stand. `committed` keeps
 * asking until the server answers, for what follows a commit to happen then.
 */
export class CommitInDoubt extends Error {
  constructor(
    cause: unknown,
    readonly committed: () => Promise<boolean>,
  ) {
    super('the commit went unanswered and the database could not be asked whether it was made', { cause });
    this.name = 'CommitInDoubt';
  }
}

/**
 * Makes `db`'s transactions on `pool` sound against connections lost under them:
 * - each takes its connection itself and always gives it back. drizzle-orm 0.45 runs `begin` before
 *   the guard that releases the connection, so one lost at that moment stayed lent out for good
 *   (drizzle-team/drizzle-orm#6241): a server restart under load could leave the pool empty. The
 *   pool drops one given back lost (pg-pool looks at the client);
 * - one whose connection is lost after its `commit` was sent asks the server whether it committed,
 *   and if so succeeds: the change stands, and what follows a commit (telling the media plane,
 *   waking the callbacks) must happen, or a recording is left started or stopped in the database
 *   alone. It costs one statement per transaction, to learn its id. One that cannot learn it in
 *   time fails with CommitInDoubt.
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
      if (!committing || !isDatabaseUnreachable(error)) throw error;
      const { xid, result } = committing;
      const fate = await fateOf(pool, xid, COMMIT_LOOKUP_MS);
      if (fate === 'committed') return result;
      if (fate === 'unknown') throw new CommitInDoubt(error, async () => (await fateOf(pool, xid, Infinity)) === 'committed');
      throw error;
    } finally {
      client.release();
    }
  };
}

/** What became of the transaction, asked on another connection for up to `patienceMs`. */
async function fateOf(pool: pg.Pool, xid: string, patienceMs: number): Promise<'committed' | 'aborted' | 'unknown'> {
  const deadline = performance.now() + patienceMs;
  for (;;) {
    try {
      const { rows } = await pool.query<{ status: string | null }>('select txid_status($1::bigint) as status', [xid]);
      // 'in progress': the server has yet to notice the lost connection and end the transaction.
      if (rows[0]?.status !== 'in progress') return rows[0]?.status === 'committed' ? 'committed' : 'aborted';
    } catch (error) {
      if (!isDatabaseUnreachable(error)) return 'unknown';
    }
    if (performance.now() > deadline) return 'unknown';
    await new Promise((resolve) => setTimeout(resolve, LOOKUP_PAUSE_MS).unref());
  }
}
