import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { rowsOf } from './row-reader.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mpc-db-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

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
      const one = async <T>(query: ReturnType<typeof sql>) => rowsOf(await database.db.execute(query))[0] as T;
      const statistics = async () => Number((await one<{ reltuples: number }>(sql`select reltuples from pg_class where relname = 'churn'`)).reltuples);
      const deadRows = async () =>
        Number((await one<{ n_dead_tup: number }>(sql`select n_dead_tup from pg_stat_user_tables where relname = 'churn'`)).n_dead_tup);
      await database.db.execute(sql`create table churn (id integer primary key, n integer)`);
      await database.db.execute(sql`insert into churn select g, 0 from generate_series(1, 500) g`);
      await database.db.execute(sql`update churn set n = n + 1`);
      expect(await statistics()).toBe(-1); // never analysed
      expect(await database.maintain()).toEqual({ vacuumed: ['churn'], analyzed: ['churn'] });
      expect(await statistics()).toBe(500);
      expect(await deadRows()).toBe(0);
      // Nothing changed since: nothing to do.
      expect(await database.maintain()).toEqual({ vacuumed: [], analyzed: [] });
      // A few changes stay under the thresholds (50 rows and a fifth, or a tenth, of the table).
      await database.db.execute(sql`update churn set n = n + 1 where id <= 40`);
      expect(await database.maintain()).toEqual({ vacuumed: [], analyzed: [] });
    } finally {
      await database.close();
    }
  });
});
