import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mpc-db-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the embedded database', () => {
  it('is vacuumed and analysed by maintain(), as nothing else does it', async () => {
    const database = await openDatabase({ dataDir });
    try {
      const statistics = async () => {
        const result = await database.db.execute(sql`select reltuples from pg_class where relname = 'churn'`);
        return Number((result as unknown as { rows: { reltuples: number }[] }).rows[0]!.reltuples);
      };
      await database.db.execute(sql`create table churn (id integer primary key, n integer)`);
      await database.db.execute(sql`insert into churn select g, 0 from generate_series(1, 500) g`);
      await database.db.execute(sql`update churn set n = n + 1`);
      expect(await statistics()).toBe(-1); // never analysed
      await database.maintain();
      expect(await statistics()).toBe(500);
    } finally {
      await database.close();
    }
  });
});
