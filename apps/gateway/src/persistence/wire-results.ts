import { messages, type ParserOptions, type Results } from '@electric-sql/pglite';

/** A column of a statement's rows, as its RowDescription gives it. */
export interface Column {
  name: string;
  dataTypeID: number;
}

type Parsers = Record<number | string, (value: string, typeId: number) => unknown>;

// ErrorResponse field codes, and the DatabaseError properties PGlite's parser gives them.
const ERROR_FIELDS: Record<string, keyof messages.DatabaseError> = {
  S: 'severity',
  C: 'code',
  D: 'detail',
  H: 'hint',
  P: 'position',
  p: 'internalPosition',
  q: 'internalQuery',
  W: 'where',
  s: 'schema',
  t: 'table',
  c: 'column',
  d: 'dataType',
  n: 'constraint',
  F: 'file',
  L: 'line',
  R: 'routine',
};

const COUNTED_COMMANDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'COPY', 'MERGE']);

/**
 * The results of one call into Postgres, read from the backend's bytes as PGlite's parser and
 * parseResults read them (same rows, fields, command and counts, same DatabaseError), for what
 * prepared statements answer. PGlite builds a message object, and copies a buffer, for every
 * value; on the hot statements that parsing cost about as much as Postgres took to run them.
 * `columns` are those of the rows, as described when the statement was parsed: a Bind and Execute
 * answer no RowDescription. A column's values are read by its type's parser in `overrides`, else
 * in `parsers`. Throws the first error the backend answered.
 */
export function readResults(
  bytes: Uint8Array,
  columns: Column[] | undefined,
  parsers: Parsers,
  rowMode: 'array' | 'object' = 'object',
  overrides?: ParserOptions,
): Results[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const results: Results[] = [];
  let error: messages.DatabaseError | undefined;
  const fields = columns ?? [];
  const parserOf = fields.map(({ dataTypeID }) => overrides?.[dataTypeID] ?? parsers[dataTypeID]);
  let rows: unknown[] = [];
  let affectedRows = 0;
  let at = 0;
  const cstring = () => {
    const end = buffer.indexOf(0, at);
    const text = buffer.toString('utf8', at, end);
    at = end + 1;
    return text;
  };
  while (at + 5 <= buffer.length) {
    const type = buffer[at]!;
    const length = buffer.readInt32BE(at + 1);
    const start = at + 5;
    const next = at + 1 + length;
    at = start;
    switch (type) {
      case 0x44 /* D: DataRow */: {
        const count = buffer.readInt16BE(at);
        at += 2;
        const values: unknown[] = new Array(count);
        for (let i = 0; i < count; i++) {
          const size = buffer.readInt32BE(at);
          at += 4;
          if (size < 0) {
            values[i] = null;
            continue;
          }
          const text = buffer.toString('utf8', at, at + size);
          at += size;
          const parser = parserOf[i];
          values[i] = parser ? parser(text, fields[i]!.dataTypeID) : text;
        }
        if (rowMode === 'array') {
          rows.push(values);
        } else {
          const row: Record<string, unknown> = {};
          for (let i = 0; i < count; i++) row[fields[i]!.name] = values[i];
          rows.push(row);
        }
        break;
      }
      case 0x43 /* C: CommandComplete */: {
        const words = cstring().split(' ');
        const command = words[0]!;
        const count = parseInt(words[words.length - 1]!, 10);
        if (COUNTED_COMMANDS.has(command)) affectedRows += count;
        results.push({ rows, fields, command, affectedRows, ...(Number.isNaN(count) ? {} : { rowCount: count }) } as Results);
        rows = [];
        break;
      }
      case 0x45 /* E: ErrorResponse */: {
        if (error) break;
        const found: Record<string, string> = {};
        while (buffer[at] !== 0) {
          const code = String.fromCharCode(buffer[at]!);
          at += 1;
          found[code] = cstring();
        }
        error = new messages.DatabaseError(found.M ?? 'unknown database error', length, 'error');
        for (const [code, property] of Object.entries(ERROR_FIELDS)) (error as unknown as Record<string, unknown>)[property] = found[code];
        break;
      }
      // The rest (BindComplete, ReadyForQuery, notices, …) carry nothing a result needs.
    }
    at = next;
  }
  if (error) throw error;
  if (results.length === 0) results.push({ affectedRows: 0, rows: [], fields: [] });
  return results;
}
