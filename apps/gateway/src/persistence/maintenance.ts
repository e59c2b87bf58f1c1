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

export interface MaintenanceDone {
  vacuumed: string[];
  analyzed: string[];
  checkpointed: boolean;
}

/**
 * What autovacuum and the checkpointer would do, for the embedded PGlite, which has neither: each
 * table whose dead or changed rows passed autovacuum's thresholds is vacuumed or analysed, one
 * statement per table, and a checkpoint follows once the WAL since the last one reaches
 * `checkpointWalBytes`.
 * PGlite runs on the event loop, so a statement holds up the media streams and the mix while it
 * runs: a whole-database VACUUM ANALYZE (the catalogs included) took 150 ms and more once the
 * recordings table held 200,000 rows, longer than the media jitter window; one table at a time,
 * and only when due, takes tens of milliseconds, and the client gives the event loop a turn
 * between statements that run long (PreparedPglite).
 */
export async function maintainDatabase(client: PgliteClient, checkpointWalBytes = CHECKPOINT_WAL_BYTES): Promise<MaintenanceDone> {
  // Activity counts reach the statistics views when a statement ends, at most once a second
  // unless forced: forced here, so the next statement reads them up to date.
  await client.query('select pg_stat_force_next_flush()');
  const { rows } = await client.query<TableActivity>('select relname, n_live_tup, n_dead_tup, n_mod_since_analyze from pg_stat_user_tables');
  const done: MaintenanceDone = { vacuumed: [], analyzed: [], checkpointed: false };
  const over = (changed: number, live: number, threshold: { rows: number; share: number }) => changed > threshold.rows + threshold.share * live;
  for (const table of rows) {
    const name = `"${table.relname.replaceAll('"', '""')}"`;
    if (over(Number(table.n_dead_tup), Number(table.n_live_tup), VACUUM_THRESHOLD)) {
      await client.exec(`VACUUM ${name}`);
      done.vacuumed.push(table.relname);
    }
    if (over(Number(table.n_mod_since_analyze), Number(table.n_live_tup), ANALYZE_THRESHOLD)) {
      await client.exec(`SET default_statistics_target = ${STATISTICS_TARGET}; ANALYZE ${name}`);
      done.analyzed.push(table.relname);
    }
  }
  if ((await walSinceCheckpoint(client)) >= checkpointWalBytes) {
    await client.exec('CHECKPOINT');
    done.checkpointed = true;
  }
  return done;
}

/** Bytes of WAL written since the redo point of the last checkpoint. */
export async function walSinceCheckpoint(client: PgliteClient): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>('select pg_wal_lsn_diff(pg_current_wal_lsn(), redo_lsn) as bytes from pg_control_checkpoint()');
  return Number(rows[0]!.bytes);
}
