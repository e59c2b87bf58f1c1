import { getTableColumns, getTableName, sql, type Column, type InferInsertModel, type InferSelectModel, type SQL, type Table } from 'drizzle-orm';

/** The rows a statement run with `execute` answered: PGlite and node-postgres both answer `{ rows }`. */
export function rowsOf(result: unknown): Record<string, unknown>[] {
  return (result as { rows: Record<string, unknown>[] }).rows;
}

/**
 * A table's columns for statements written out with `sql` on the hot path (starting and stopping
 * recordings), where building them with the query builder and mapping their rows back cost more
 * than Postgres took to run them. `columns` selects every column as "<prefix><name>", so two
 * tables can share a row; `read` turns such a row into the table's row type with the conversions
 * the query builder applies (the drivers answer the same raw values to both). Values go in through
 * placeholders, so that each statement is rendered once (see RenderedSql).
 */
export class RowReader<T extends Table> {
  /** The select list: "<table>"."<column>" as "<prefix><column>", for every column. */
  readonly columns: SQL;
  /** The same list for a RETURNING clause, which names no table. */
  readonly returning: SQL;
  private readonly fields: { key: string; alias: string; column: Column }[];
  private readonly keyAlias: string;

  constructor(table: T, prefix = '') {
    const name = getTableName(table);
    this.fields = Object.entries(getTableColumns(table)).map(([key, column]) => ({ key, column, alias: `${prefix}${column.name}` }));
    // Values the query builder computes in JavaScript ($defaultFn, $onUpdateFn) would be missing here.
    const computed = this.fields.filter(({ column }) => column.defaultFn || column.onUpdateFn).map(({ key }) => key);
    if (computed.length > 0) throw new Error(`RowReader cannot write ${name}: ${computed.join(', ')} take values computed in JavaScript`);
    this.keyAlias = (this.fields.find(({ column }) => column.primary) ?? this.fields[0]!).alias;
    this.columns = sql.raw(this.fields.map(({ column, alias }) => `"${name}"."${column.name}" as "${alias}"`).join(', '));
    this.returning = sql.raw(this.fields.map(({ column, alias }) => `"${column.name}" as "${alias}"`).join(', '));
  }

  read(row: Record<string, unknown>): InferSelectModel<T> {
    const out: Record<string, unknown> = {};
    for (const { key, alias, column } of this.fields) {
      const value = row[alias];
      out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    return out as InferSelectModel<T>;
  }

  /** The row, or null when it is the missing side of an outer join (its primary key is null). */
  readJoined(row: Record<string, unknown>): InferSelectModel<T> | null {
    return row[this.keyAlias] === null ? null : this.read(row);
  }

  /**
   * The columns `values` gives, by key, and each value encoded as the query builder encodes it,
   * to fill the placeholders of valuesOf and assignments. Columns left out take their defaults.
   */
  encode(values: Partial<InferInsertModel<T>>): { keys: string[]; encoded: Record<string, unknown> } {
    const byKey = values as Record<string, unknown>;
    const encoded: Record<string, unknown> = {};
    for (const { key, column } of this.fields) {
      const value = byKey[key];
      if (value !== undefined) encoded[key] = value === null ? null : column.mapToDriverValue(value);
    }
    return { keys: Object.keys(encoded), encoded };
  }

  /** `(columns) values (…)` for an INSERT of the columns `keys` names, each value the placeholder named by its key. */
  valuesOf(keys: readonly string[]): SQL {
    const given = this.named(keys);
    const names = sql.raw(given.map(({ column }) => `"${column.name}"`).join(', '));
    const values = sql.join(
      given.map(({ key }) => sql.placeholder(key)),
      sql.raw(', '),
    );
    return sql`(${names}) values (${values})`;
  }

  /** `column = …, …` for an UPDATE's SET of the columns `keys` names, each value the placeholder named by its key. */
  assignments(keys: readonly string[]): SQL {
    return sql.join(
      this.named(keys).map(({ key, column }) => sql`${sql.identifier(column.name)} = ${sql.placeholder(key)}`),
      sql.raw(', '),
    );
  }

  private named(keys: readonly string[]): { key: string; column: Column }[] {
    return keys.map((key) => {
      const field = this.fields.find((candidate) => candidate.key === key);
      if (!field) throw new Error(`RowReader: no column ${key}`);
      return field;
    });
  }
}
