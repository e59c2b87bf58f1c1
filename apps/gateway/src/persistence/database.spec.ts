import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedFailure, openDatabase, type OpenDatabase } from './database.js';
import { PAUSE_BETWEEN_STATEMENTS_MS } from './maintenance.js';
import { rowsOf } from './row-reader.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mpc-db-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const firstRow = async <T>(database: OpenDatabase, query: ReturnType<typeof sql>) => rowsOf(await database.db.execute(query))[0] as T;

describe('the embedded database', () => {
  it('makes new WAL segments without zero-filling them on the event loop', async () => {
    const database = await openDatabase({ dataDir });
    try {
      expect(rowsOf(await database.db.execute(sql`show wal_init_zero`))).toEqual([{ wal_init_zero: 'off' }]);
      expect(rowsOf(await database.db.execute(sql`show search_path`))).toEqual([{ search_path: 'public' }]); // PGlite's own settings stay
    } finally {
      await database.close();
    }
  });

  it('is vacuumed and analysed by maintain(), table by table and only where autovacuum would, as nothing else does it', async () => {
    const database = await openDatabase({ dataDir });
    try {
      const one = <T>(query: ReturnType<typeof sql>) => firstRow<T>(database, query);
      const statistics = async () => Number((await one<{ reltuples: number }>(sql`select reltuples from pg_class where relname = 'churn'`)).reltuples);
      const deadRows = async () =>
        Number((await one<{ n_dead_tup: number }>(sql`select n_dead_tup from pg_stat_user_tables where relname = 'churn'`)).n_dead_tup);
      await database.db.execute(sql`create table churn (id integer primary key, n integer)`);
      await database.db.execute(sql`insert into churn select g, 0 from generate_series(1, 500) g`);
      await database.db.execute(sql`update churn set n = n + 1`);
      expect(await statistics()).toBe(-1); // never analysed
      const started = performance.now();
      const done = await database.maintain();
      expect(done).toEqual({ vacuumed: ['churn'], analyzed: ['churn'], frozen: [], checkpointed: false, longestStatementMs: expect.any(Number) });
      // VACUUM and ANALYZE ran apart, the event loop free in between for the requests they held up.
      expect(performance.now() - started).toBeGreaterThanOrEqual(PAUSE_BETWEEN_STATEMENTS_MS);
      // What it reports as the longest hold of the event loop is a statement's time, not the pause's.
      expect(done.longestStatementMs).toBeLessThan(PAUSE_BETWEEN_STATEMENTS_MS);
      expect(await statistics()).toBe(500);
      expect(await deadRows()).toBe(0);
      // Nothing changed since: nothing to do.
      expect(await database.maintain()).toEqual({ vacuumed: [], analyzed: [], frozen: [], checkpointed: false, longestStatementMs: 0 });
      // A few changes stay under the thresholds (50 rows and a fifth, or a tenth, of the table).
      await database.db.execute(sql`update churn set n = n + 1 where id <= 40`);
      expect(await database.maintain()).toEqual({ vacuumed: [], analyzed: [], frozen: [], checkpointed: false, longestStatementMs: 0 });
    } finally {
      await database.close();
    }
  });

  it('checkpoints in maintain() once the WAL since the last checkpoint reaches its threshold, as nothing else does', async () => {
    const threshold = 1024 * 1024;
    const database = await openDatabase({ dataDir, maintenance: { checkpointWalBytes: threshold } });
    try {
      const walSinceCheckpoint = async () =>
        Number((await firstRow<{ bytes: string }>(database, sql`select pg_wal_lsn_diff(pg_current_wal_lsn(), redo_lsn) as bytes from pg_control_checkpoint()`)).bytes);
      await database.db.execute(sql`create table journal (id integer primary key, note text)`);
      await database.db.execute(sql`checkpoint`);
      await database.db.execute(sql`insert into journal select g, repeat('x', 100) from generate_series(1, 1000) g`);
      expect(await walSinceCheckpoint()).toBeLessThan(threshold);
      expect((await database.maintain()).checkpointed).toBe(false);
      // Nothing but this maintenance would ever checkpoint: the WAL only grows.
      await database.db.execute(sql`insert into journal select g, repeat('x', 100) from generate_series(1001, 20000) g`);
      expect(await walSinceCheckpoint()).toBeGreaterThanOrEqual(threshold);
      expect((await database.maintain()).checkpointed).toBe(true);
      expect(await walSinceCheckpoint()).toBeLessThan(64 * 1024);
      expect((await database.maintain()).checkpointed).toBe(false);
    } finally {
      await database.close();
    }
  });

  it('freezes in maintain() every table whose oldest transaction id is past the freeze age, the catalogs too, as autovacuum would', async () => {
    const freezeMaxAge = 500;
    const database = await openDatabase({ dataDir, maintenance: { freezeMaxAge, pauseMs: 0 } });
    try {
      const oldest = async () =>
        rowsOf(await database.db.execute(sql`select c.oid::regclass::text as name, age(c.relfrozenxid)::int as age from pg_class c where c.relkind = 'r' order by 2 desc, 1`)) as { name: string; age: number }[];
      await database.db.execute(sql`create table ledger (id integer primary key)`);
      // Each statement on its own is a transaction, and takes a transaction id.
      for (let id = 1; id <= freezeMaxAge + 100; id++) await database.db.execute(sql`insert into ledger values (${id})`);
      const before = await oldest();
      expect(before.map((table) => table.name)).toContain('ledger');
      expect(before.map((table) => table.name)).toContain('pg_class');
      const due = before.filter((table) => table.age > freezeMaxAge).map((table) => table.name);
      expect(due.length).toBeGreaterThan(10);
      const done = await database.maintain();
      expect(done.frozen.toSorted()).toEqual(due.toSorted());
      expect((await oldest())[0]!.age).toBeLessThan(freezeMaxAge);
      const frozenDatabase = await firstRow<{ age: number }>(database, sql`select age(datfrozenxid)::int as age from pg_database where datname = current_database()`);
      expect(frozenDatabase.age).toBeLessThan(freezeMaxAge);
      expect((await database.maintain()).frozen).toEqual([]);
    } finally {
      await database.close();
    }
  });
});

describe('a failure of the embedded database to open', () => {
  it('says what its file system threw, which is a plain object with an errno, not an Error', () => {
    // What PGlite threw on a full disk at the first start.
    const thrown = { name: 'ErrnoError', errno: 51 };
    const error = embeddedFailure('/data/pgdata', thrown) as Error;
    expect(error.message).toBe('the embedded database in /data/pgdata could not be opened: ENOSPC: no space left on device');
    expect(error.cause).toBe(thrown);
    const other = new Error('database files are incompatible with server');
    expect(embeddedFailure('/data/pgdata', other)).toBe(other);
  });
});
