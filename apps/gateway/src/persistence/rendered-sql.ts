import { types } from '@electric-sql/pglite';
import { fillPlaceholders, is, type Query, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { PgliteSession } from 'drizzle-orm/pglite';
import type { PgliteClient } from './prepared-pglite.js';
import type { Queryable } from './database.js';
import { rowsOf } from './row-reader.js';

const dialect = new PgDialect();

const asWritten = (value: string) => value;

/**
 * How drizzle's PGlite driver asks for rows (its prepared query's rawQueryConfig): dates, times,
 * intervals, and arrays of those and of numerics, as Postgres writes them, for the columns' mapFromDriverValue to read.
 */
export const PGLITE_ROWS = {
  rowMode: 'object',
  parsers: Object.fromEntries(
    // The array oids: numeric[], timestamp[], timestamptz[], interval[], date[].
    [types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182].map((oid) => [oid, asWritten]),
  ),
} as const;

/**
 * A statement rendered to SQL text once, its values left as named placeholders (`sql.placeholder`)
 * that each run fills. `db.execute` renders its `sql` afresh on every call, visiting every table
 * and column reference in it; on the statements that start and stop recordings, that cost more
 * than the driver's own work. Runs on either database, in a transaction or not, as `execute` does.
 */
export class RenderedSql {
  private readonly query: Query;

  constructor(statement: SQL) {
    this.query = dialect.sqlToQuery(statement);
  }

  async rows(db: Queryable, values: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    const { session } = db._;
    // On PGlite the client is asked directly, as drizzle's driver would ask it: the driver builds a
    // prepared query, with two fresh sets of parsers, on every run (a tenth of start and stop's
    // database time). Its client is that of the transaction when `db` is one.
    if (is(session, PgliteSession)) {
      const { client } = session as unknown as { client: PgliteClient };
      return (await client.query<Record<string, unknown>>(this.query.sql, fillPlaceholders(this.query.params, values), PGLITE_ROWS)).rows;
    }
    return rowsOf(await session.prepareQuery(this.query, undefined, undefined, false).execute(values));
  }
}

/** The statement `render` makes for a shape (such as the columns given), rendered the first time that shape is asked for. */
export function renderedPerShape<Shape>(keyOf: (shape: Shape) => string, render: (shape: Shape) => SQL): (shape: Shape) => RenderedSql {
  const rendered = new Map<string, RenderedSql>();
  return (shape) => {
    const key = keyOf(shape);
    let statement = rendered.get(key);
    if (!statement) rendered.set(key, (statement = new RenderedSql(render(shape))));
    return statement;
  };
}
