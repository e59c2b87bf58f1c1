import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PreparedPglite } from './prepared-pglite.js';

describe('PGlite over prepared statements', () => {
  let pglite: PGlite;
  let client: PreparedPglite;
  const prepared = async () => (await pglite.query<{ name: string }>('select name from pg_prepared_statements order by name')).rows.map((row) => row.name);

  // One database for all: creating one takes seconds.
  beforeAll(async () => {
    pglite = await PGlite.create();
  });

  beforeEach(async () => {
    await pglite.exec(`deallocate all; drop table if exists items; create table items (id integer primary key, tags text[], data jsonb, at timestamptz)`);
    client = new PreparedPglite(pglite, { maxStatements: 3 });
  });

  afterAll(() => pglite.close());

  it('prepares each statement once and answers as PGlite does, values serialized by their parameter types', async () => {
    const insert = 'insert into items values ($1, $2, $3, $4) returning *';
    const at = new Date('2026-01-02T03:04:05.678Z');
    const ours = await client.query(insert, [1, ['a', 'b'], { n: 1 }, at]);
    await pglite.query('delete from items');
    const theirs = await pglite.query(insert, [1, ['a', 'b'], { n: 1 }, at]);
    expect(ours).toEqual(theirs);
    await client.query(insert, [2, null, null, null]);
    expect(await prepared()).toEqual(['s1']);
    expect((await client.query('select id from items order by id', [], { rowMode: 'array' })).rows).toEqual([[1], [2]]);
  });

  it('reads every kind of value, null, empty and multi-byte text, and rows as arrays, as PGlite does', async () => {
    await client.query('insert into items values ($1, $2, $3, $4)', [1, ['ü', '', 'a"b,c'], { emoji: '🎙', nested: [1, null] }, new Date(0)]);
    await client.query('insert into items values ($1, $2, $3, $4)', [2, null, null, null]);
    const select = `select id, tags, data, at, id::text || 'é' as label, '' as empty, null::int as nothing, 1.5::float8 as ratio, true as yes from items order by id`;
    expect(await client.query(select)).toEqual(await pglite.query(select));
    expect(await client.query(select, [], { rowMode: 'array' })).toEqual(await pglite.query(select, [], { rowMode: 'array' }));
    const update = 'update items set tags = null where id > $1';
    expect(await client.query(update, [0])).toEqual(await pglite.query(update, [0]));
    const none = 'select id from items where id < $1';
    expect(await client.query(none, [0])).toEqual(await pglite.query(none, [0]));
  });

  it('reads a result larger than one chunk of the backend output', async () => {
    const many = `select n, repeat('x', 100) as filler from generate_series(1, $1::int) as n`;
    const ours = await client.query<{ n: number; filler: string }>(many, [50_000]);
    expect(ours.rows).toHaveLength(50_000);
    expect(ours.rows.at(-1)).toEqual({ n: 50_000, filler: 'x'.repeat(100) });
    expect(ours).toEqual(await pglite.query(many, [50_000]));
  });

  it('fails with the DatabaseError PGlite gives, every field of it', async () => {
    const insert = 'insert into items (id) values ($1)';
    await client.query(insert, [1]);
    const ours = await client.query(insert, [1]).catch((error: unknown) => error);
    const theirs = await pglite.query(insert, [1]).catch((error: unknown) => error);
    expect(ours).toBeInstanceOf(Error);
    expect(ours).toMatchObject({ code: '23505', constraint: 'items_pkey', table: 'items', detail: 'Key (id)=(1) already exists.' });
    const fields = ['message', 'name', 'length', 'severity', 'code', 'detail', 'hint', 'position', 'where', 'schema', 'table', 'column', 'dataType', 'constraint', 'file', 'routine'];
    const pick = (error: unknown) => Object.fromEntries(fields.map((field) => [field, (error as Record<string, unknown>)[field]]));
    expect(pick(ours)).toEqual(pick(theirs));
  });

  it('keeps a statement usable after it failed on its values', async () => {
    const insert = 'insert into items (id) values ($1)';
    await client.query(insert, [1]);
    await expect(client.query(insert, [1])).rejects.toMatchObject({ code: '23505', query: insert });
    await client.query(insert, [2]);
    expect((await client.query('select count(*)::int as n from items')).rows).toEqual([{ n: 2 }]);
  });

  it('does not keep a statement that failed to parse', async () => {
    await expect(client.query('select nope from items')).rejects.toMatchObject({ code: '42703' });
    expect(await prepared()).toEqual([]);
  });

  it('forgets the least recently used statement beyond its limit', async () => {
    for (const n of [1, 2, 3]) await client.query(`select ${n}`);
    await client.query('select 1');
    await client.query('select 4');
    expect(await prepared()).toEqual(['s1', 's3', 's4']);
  });

  it('commits a transaction, and rolls it back when its work throws', async () => {
    const inserted = await client.transaction((tx) => tx.query('insert into items (id) values ($1) returning id', [1]));
    expect(inserted.rows).toEqual([{ id: 1 }]);
    await expect(
      client.transaction(async (tx) => {
        await tx.query('insert into items (id) values ($1)', [2]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await client.query('select id from items')).rows).toEqual([{ id: 1 }]);
  });

  it('rolls back a transaction whose first statement fails, and begins none for a transaction without statements', async () => {
    await expect(client.transaction((tx) => tx.query('insert into items (id) values ($1)', ['one']))).rejects.toMatchObject({ code: '22P02' });
    await expect(client.transaction((tx) => tx.query('select nope from items'))).rejects.toMatchObject({ code: '42703' });
    expect(await client.transaction(async () => 'nothing')).toBe('nothing');
    await client.query('insert into items (id) values ($1)', [1]);
    expect(pglite.isInTransaction()).toBe(false);
    expect((await client.query('select id from items')).rows).toEqual([{ id: 1 }]);
  });

  it('refuses to report a commit that Postgres rolled back', async () => {
    await expect(
      client.transaction(async (tx) => {
        await tx.query('insert into items (id) values ($1)', [1]);
        await tx.query('insert into items (id) values ($1)', [1]).catch(() => undefined);
      }),
    ).rejects.toThrow('rolled back');
    expect((await client.query('select id from items')).rows).toEqual([]);
  });

  it('runs statements outside a transaction only once it has ended', async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = client.transaction(async (tx) => {
      await tx.query('insert into items (id) values ($1)', [1]);
      await held;
      order.push('commit');
    });
    const outside = client.query<{ n: number }>('select count(*)::int as n from items').then((result) => {
      order.push('outside');
      return result.rows[0]!.n;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await transaction;
    expect(await outside).toBe(1);
    expect(order).toEqual(['commit', 'outside']);
  });

  it('lets a due timer run between queued statements instead of holding the event loop until all are done', async () => {
    let done = 0;
    let doneWhenTimerRan: number | undefined;
    setTimeout(() => (doneWhenTimerRan = done), 0);
    const statements = 1000;
    await Promise.all(Array.from({ length: statements }, () => client.query('select 1').then(() => (done += 1))));
    expect(doneWhenTimerRan).toBeDefined();
    expect(doneWhenTimerRan).toBeLessThan(statements);
  });
});
