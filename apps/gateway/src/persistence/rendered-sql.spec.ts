import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparedPglite } from './prepared-pglite.js';
import { PGLITE_ROWS, RenderedSql } from './rendered-sql.js';
import * as schema from './schema.js';

describe('RenderedSql on PGlite', () => {
  let pglite: PGlite;

  beforeAll(async () => {
    pglite = await PGlite.create();
    await pglite.exec(`create table kinds (id int primary key, at timestamptz, local timestamp, day date, span interval, amounts numeric[], moments timestamptz[], label text);
      insert into kinds values (1, '2026-11-25 10:00:00.123456+00', '2026-11-25 10:00:00', '2026-11-25', '1 day 02:03:04', '{1.5,2}', '{"2026-11-25 10:00:00+00"}', 'ü'),
        (2, null, null, null, null, null, null, null)`);
  });

  afterAll(() => pglite.close());

  it("asks for rows as drizzle's PGlite driver does", () => {
    const prepared = drizzle(pglite)._.session.prepareQuery({ sql: 'select 1', params: [] }, undefined, undefined, false) as unknown as {
      rawQueryConfig: { rowMode: string; parsers: Record<string, (value: string) => unknown> };
    };
    expect(PGLITE_ROWS.rowMode).toBe(prepared.rawQueryConfig.rowMode);
    expect(Object.keys(PGLITE_ROWS.parsers).sort()).toEqual(Object.keys(prepared.rawQueryConfig.parsers).sort());
    for (const [oid, parse] of Object.entries(prepared.rawQueryConfig.parsers)) expect(PGLITE_ROWS.parsers[oid]!('x')).toBe(parse('x'));
  });

  it.each([
    ['PGlite', () => pglite],
    ['PreparedPglite', () => new PreparedPglite(pglite)],
  ])('answers the rows execute answers, in a transaction and out of one, on %s', async (_name, client) => {
    const db = drizzle(client() as PGlite, { schema });
    const select = (id: unknown) => sql`select * from kinds where id <= ${id} order by id`;
    const rendered = new RenderedSql(select(sql.placeholder('id')));
    const expected = (await db.execute(select(2))).rows;
    expect(expected).toHaveLength(2);
    expect(await rendered.rows(db, { id: 2 })).toEqual(expected);
    expect(await db.transaction((tx) => rendered.rows(tx, { id: 2 }))).toEqual(expected);
  });
});
