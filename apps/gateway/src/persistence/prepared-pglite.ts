import { parse, protocol, type PGlite, type QueryOptions, type Results } from '@electric-sql/pglite';
import { bindText } from './wire-bind.js';
import { readResults, type Column } from './wire-results.js';

type Messages = Awaited<ReturnType<PGlite['execProtocolStream']>>;

interface Statement {
  name: string;
  /** Parameter type OIDs, which pick each value's serializer as PGlite's own query does. */
  paramTypes: number[];
  /** The columns of its rows, described once when it was prepared; undefined when it returns none. */
  columns: Column[] | undefined;
}

/** Messages that never change, serialized once rather than on every statement. */
const MESSAGES = {
  begin: protocol.serialize.query('begin'),
  commit: protocol.serialize.query('commit'),
  rollback: protocol.serialize.query('rollback'),
  execute: protocol.serialize.execute({}),
  sync: protocol.serialize.sync(),
};

/** How long database work may run back to back before it lets the event loop take a turn. */
const BUSY_TURN_MS = 5;

/** What drizzle's PGlite driver calls on a client, and on the client of a transaction. */
export interface PgliteClient {
  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec(text: string): Promise<void>;
}

/**
 * The part of PGlite that drizzle uses (query, exec, transaction), over prepared statements.
 * PGlite's own query parses and plans every statement afresh, in six calls into Postgres; most
 * of the database's cost was that. Here a statement's SQL is prepared once under a name, and each
 * run is one call: bind, execute, sync. Statements and transactions run one at a time,
 * as on PGlite.
 */
export class PreparedPglite implements PgliteClient {
  private readonly statements = new Map<string, Statement>();
  private tail: Promise<unknown> = Promise.resolve();
  private counter = 0;
  private beginPending = false;
  /** Since when operations have run without the event loop getting a timer turn (see giveWayIfBusy). */
  private busySince: number | undefined;

  private readonly maxStatements: number;
  private readonly syncsToFs: boolean;

  /**
   * `syncToFs: false` where the filesystem writes through as Postgres writes (a data directory in
   * Node): PGlite's syncToFs then does nothing, and asking still takes a lock and several promise
   * turns per operation, about a tenth of what start and stop cost the database.
   */
  constructor(
    readonly pg: PGlite,
    { maxStatements = 256, syncToFs = true }: { maxStatements?: number; syncToFs?: boolean } = {},
  ) {
    this.maxStatements = maxStatements;
    this.syncsToFs = syncToFs;
  }

  query<T>(text: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    return this.exclusive(() => this.run<T>(text, params, options));
  }

  exec(text: string): Promise<void> {
    return this.exclusive(() => this.simple(text).then(() => undefined));
  }

  /** Runs `work` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: PgliteClient) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      // BEGIN goes with the first statement, in the same call.
      this.beginPending = true;
      let open = true;
      const tx: PgliteClient = {
        query: <R>(text: string, params: unknown[] = [], options?: QueryOptions) => {
          if (!open) throw new Error('the transaction is closed');
          return this.run<R>(text, params, options);
        },
        exec: async (text: string) => {
          if (!open) throw new Error('the transaction is closed');
          await this.simple(text);
        },
      };
      try {
        const result = await work(tx);
        open = false;
        if (this.beginPending) return result; // it ran no statement
        const [committed] = await this.control('commit');
        // COMMIT of a transaction a failed statement aborted answers ROLLBACK.
        if (committed?.command === 'ROLLBACK') {
          throw new Error('the transaction was rolled back instead of committed: one of its statements failed');
        }
        return result;
      } catch (error) {
        if (open) {
          open = false;
          if (!this.beginPending) await this.control('rollback');
        }
        throw error;
      } finally {
        this.beginPending = false;
      }
    });
  }

  close(): Promise<void> {
    return this.pg.close();
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(async () => {
      await this.giveWayIfBusy();
      try {
        return await work();
      } finally {
        if (this.syncsToFs) await this.pg.syncToFs();
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Operations run one after another as promise continuations, which never return to the event
   * loop: a burst of requests, or a caller awaiting statement after statement, would hold up the
   * mixing tick and the media sockets for as long as all of them take (80 ms and more were seen).
   * Once operations have run for BUSY_TURN_MS without the event loop getting a timer turn, the next
   * one waits for that turn, where an overdue tick runs first.
   */
  private async giveWayIfBusy(): Promise<void> {
    if (this.busySince !== undefined && performance.now() - this.busySince > BUSY_TURN_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (this.busySince === undefined) {
      this.busySince = performance.now();
      // Runs at the next timer turn, which ends the busy stretch.
      setTimeout(() => (this.busySince = undefined), 0);
    }
  }

  /** COMMIT or ROLLBACK, read as statements' results are (see run). */
  private async control(text: 'commit' | 'rollback'): Promise<Results[]> {
    return readResults(await this.sendRaw([MESSAGES[text]]), undefined, this.pg.parsers);
  }

  private simple(text: string): Promise<Messages> {
    return this.send([protocol.serialize.query(text)]);
  }

  /** Sends messages in one call into Postgres, after the BEGIN of a transaction not yet begun. */
  private send(messages: Uint8Array[]): Promise<Messages> {
    return this.pg.execProtocolStream(this.withBegin(messages), { syncToFs: false });
  }

  /** As send, answering the backend's bytes unparsed. */
  private async sendRaw(messages: Uint8Array[]): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    // A chunk is a view into the database's memory, reused for the next one.
    await this.pg.execProtocolRawStream(this.withBegin(messages), { syncToFs: false, onRawData: (chunk) => chunks.push(chunk.slice()) });
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  private withBegin(messages: Uint8Array[]): Uint8Array {
    if (this.beginPending) {
      messages.unshift(MESSAGES.begin);
      this.beginPending = false;
    }
    return Buffer.concat(messages);
  }

  private async run<T>(text: string, params: unknown[], options?: QueryOptions): Promise<Results<T>> {
    try {
      const statement = this.recall(text) ?? (await this.prepare(text));
      const values = params.map((param, i) => {
        if (param === null || param === undefined) return null;
        const oid = statement.paramTypes[i]!;
        const serialize = options?.serializers?.[oid] ?? this.pg.serializers[oid];
        return serialize ? serialize(param) : String(param);
      });
      // No Describe: the columns are those described at Parse, which cannot change under a prepared
      // statement (Postgres refuses to run it if they would). Describing each run cost more than some
      // statements themselves: the description is built in Postgres and parsed here, field by field.
      const bytes = await this.sendRaw([
        bindText(statement.name, values),
        MESSAGES.execute,
        MESSAGES.sync,
      ]);
      // The last result: the first is BEGIN's when the transaction began in this call.
      return readResults(bytes, statement.columns, this.pg.parsers, options?.rowMode, options?.parsers).at(-1) as Results<T>;
    } catch (error) {
      // As PGlite's query does: the error names its statement.
      if (error instanceof Error) Object.assign(error, { query: text, params, queryOptions: options });
      throw error;
    }
  }

  /** The statement prepared for `text`, now the most recently used. */
  private recall(text: string): Statement | undefined {
    const statement = this.statements.get(text);
    if (statement) {
      this.statements.delete(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private async prepare(text: string): Promise<Statement> {
    const name = `s${++this.counter}`;
    const parts = [protocol.serialize.parse({ name, text }), protocol.serialize.describe({ type: 'S', name })];
    if (this.statements.size >= this.maxStatements) {
      const [oldestText, oldest] = this.statements.entries().next().value!; // the least recently used
      this.statements.delete(oldestText);
      parts.unshift(protocol.serialize.close({ type: 'S', name: oldest.name }));
    }
    const messages = await this.send([...parts, MESSAGES.sync]);
    const statement = {
      name,
      paramTypes: parse.parseDescribeStatementResults(messages),
      columns: (messages.find((message) => message.name === 'rowDescription') as { fields: Column[] } | undefined)?.fields.map(({ name, dataTypeID }) => ({ name, dataTypeID })),
    };
    this.statements.set(text, statement);
    return statement;
  }
}
