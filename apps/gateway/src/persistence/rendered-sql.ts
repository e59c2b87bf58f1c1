import type { Query, SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Queryable } from './database.js';
import { rowsOf } from './row-reader.js';

const dialect = new PgDialect();

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
    return rowsOf(await db._.session.prepareQuery(this.query, undefined, undefined, false).execute(values));
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
