import { setTimeout as sleep } from 'node:timers/promises';
import type { PgliteClient } from './prepared-pglite.js';

/** PostgreSQL's autovacuum defaults: a table is vacuumed, or analysed, once this many of its rows changed. */
const VACUUM_THRESHOLD = { rows: 50, share: 0.2 };
const ANALYZE_THRESHOLD = { rows: 50, share: 0.1 };

/**
 * Statistics from a sample of 3,000 rows rather than 30,000: the gateway's queries look rows up
 * by key and by partial index, and a tenth of the sample makes ANALYZE of a large table about six
 * times quicker.
 */
const STATISTICS_TARGET = 10;

interface TableActivity {
  relname: string;
  n_live_tup: number;
  n_dead_tup: number;
  n_mod_since_analyze: number;
}

/**
 * WAL since the last checkpoint that makes the next maintenance checkpoint. PGlite runs Postgres in
 * single-user mode, which has no checkpointer: without one, the WAL grows for as long as the gateway
 * runs (about 1.2 KB per recording started and stopped), and a restart after a crash replays all of
 * it. A checkpoint runs on the event loop and writes the pages changed since the last one: 16 MiB
 * of WAL apart, that takes a few milliseconds.
 */
export const CHECKPOINT_WAL_BYTES = 16 * 1024 * 1024;

/**
 * The event loop's time between two heavy statements of one pass (VACUUM, ANALYZE, CHECKPOINT: each
 * 10 to 25 ms under load). Back to back, they held the requests that came meanwhile for their sum:
 * at 500 requests/s, a pass delayed 50 to 70 of them past 20 ms, up to 130 ms. Apart, what queued
 * behind one statement runs before the next, and no request waits for more than one of them.
 */
export const PAUSE_BETWEEN_STATEMENTS_MS = 200;

/** How far apart maintenance runs its heavy statements, and when it checkpoints and freezes a table; each field names its default. */
export interface MaintenancePolicy {
  /** The pause between two heavy statements: PAUSE_BETWEEN_STATEMENTS_MS. */
  pauseMs?: number;
  /** WAL since the last checkpoint that makes the next checkpoint: CHECKPOINT_WAL_BYTES. */
  checkpointWalBytes?: number;
  /** Age of a table's oldest unfrozen transaction id that makes it frozen: autovacuum_freeze_max_age. */
  freezeMaxAge?: number;
  /** The same for multixact ids: autovacuum_multixact_freeze_max_age. */
  multixactFreezeMaxAge?: number;
}

export interface MaintenanceDone {
  vacuumed: string[];
  analyzed: string[];
  /** Tables, catalogs included, vacuumed with FREEZE against transaction id wraparound. */
  frozen: string[];
  checkpointed: boolean;
  /** How long the longest of its heavy statements held the event loop; 0 when it ran none. */
  longestStatementMs: number;
}

/** What maintenance did when there was nothing to do, or nothing for it to do (a PostgreSQL server maintains itself). */
export const nothingDone = (): MaintenanceDone => ({ vacuumed: [], analyzed: [], frozen: [], checkpointed: false, longestStatementMs: 0 });

/**
 * What autovacuum and the checkpointer would do, for the embedded PGlite, which has neither: each
 * table whose dead or changed rows passed autovacuum's thresholds is vacuumed or analysed, one
 * statement per table; each table, the catalogs included, whose oldest transaction id nears
 * wraparound is frozen; and a checkpoint follows once the WAL since the last one is large enough.
 *
 * Every write transaction takes a transaction id, and ids are compared modulo 2^32: a row whose id
 * is 2^31 transactions old would seem to come from the future, and vanish. A server refuses writes
 * before that; Postgres in single-user mode, which PGlite is, does not (it is where a DBA vacuums
 * by hand), so the rows would be lost. Autovacuum freezes every table whose oldest id is 200
 * million old, the catalogs too; the dead-row thresholds alone never reach a table that is only
 * inserted into (the accounts, most catalogs). Freezing scans a table whole, on the event loop,
 * once per 200 million transactions (a recording with its participants and callbacks takes about
 * fifteen).
 *
 * PGlite runs on the event loop, so a statement holds up the media streams and the mix while it
 * runs: a whole-database VACUUM ANALYZE (the catalogs included) took 150 ms and more once the
 * recordings table held 200,000 rows, longer than the media jitter window; one table at a time,
 * and only when due, takes tens of milliseconds, and the event loop has PAUSE_BETWEEN_STATEMENTS_MS
 * between two such statements.
 */
export async function maintainDatabase(client: PgliteClient, policy: MaintenancePolicy = {}): Promise<MaintenanceDone> {
  // Activity counts reach the statistics views when a statement ends, at most once a second
  // unless forced: forced here, so the next statement reads them up to date.
  await client.query('select pg_stat_force_next_flush()');
  const { rows } = await client.query<TableActivity>('select relname, n_live_tup, n_dead_tup, n_mod_since_analyze from pg_stat_user_tables');
  const done = nothingDone();
  let heavyRun = false;
  const heavy = async (statement: string) => {
    if (heavyRun) await sleep(policy.pauseMs ?? PAUSE_BETWEEN_STATEMENTS_MS);
    heavyRun = true;
    const started = performance.now();
    await client.exec(statement);
    done.longestStatementMs = Math.max(done.longestStatementMs, Math.round(performance.now() - started));
  };
  const over = (changed: number, live: number, threshold: { rows: number; share: number }) => changed > threshold.rows + threshold.share * live;
  for (const table of rows) {
    const name = `"${table.relname.replaceAll('"', '""')}"`;
    if (over(Number(table.n_dead_tup), Number(table.n_live_tup), VACUUM_THRESHOLD)) {
      await heavy(`VACUUM ${name}`);
      done.vacuumed.push(table.relname);
    }
    if (over(Number(table.n_mod_since_analyze), Number(table.n_live_tup), ANALYZE_THRESHOLD)) {
      await heavy(`SET default_statistics_target = ${STATISTICS_TARGET}; ANALYZE ${name}`);
      done.analyzed.push(table.relname);
    }
  }
  for (const table of await nearingWraparound(client, policy)) {
    await heavy(`VACUUM (FREEZE) ${table}`);
    done.frozen.push(table);
  }
  if ((await walSinceCheckpoint(client)) >= (policy.checkpointWalBytes ?? CHECKPOINT_WAL_BYTES)) {
    await heavy('CHECKPOINT');
    done.checkpointed = true;
  }
  return done;
}

/**
 * Tables and materialized views, as names to write in SQL, whose oldest unfrozen transaction or
 * multixact id (their TOAST table's included) is past the policy's age.
 */
async function nearingWraparound(client: PgliteClient, policy: MaintenancePolicy): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select c.oid::regclass::text as name
       from pg_class c left join pg_class t on t.oid = c.reltoastrelid
      where c.relkind in ('r', 'm')
        and (greatest(age(c.relfrozenxid), age(t.relfrozenxid)) > coalesce($1::bigint, current_setting('autovacuum_freeze_max_age')::bigint)
          or greatest(mxid_age(c.relminmxid), mxid_age(t.relminmxid)) > coalesce($2::bigint, current_setting('autovacuum_multixact_freeze_max_age')::bigint))
      order by c.oid`,
    [policy.freezeMaxAge ?? null, policy.multixactFreezeMaxAge ?? null],
  );
  return rows.map((row) => row.name);
}

/** Bytes of WAL written since the redo point of the last checkpoint. */
async function walSinceCheckpoint(client: PgliteClient): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>('select pg_wal_lsn_diff(pg_current_wal_lsn(), redo_lsn) as bytes from pg_control_checkpoint()');
  return Number(rows[0]!.bytes);
}
