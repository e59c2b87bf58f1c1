import { createServer, type Server, type Socket } from 'node:net';
import { DrizzleQueryError } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { knownApiError } from '../common/error-catalog.js';
import { reasonOf } from '../common/reason-of.js';
import { DatabaseClient, DatabaseConnectionError, isDatabaseFull, isDatabaseUnreachable } from './database-unreachable.js';
import { poolTransactions } from './pool-transactions.js';

/** A port that accepts connections and never answers, as a frozen server does. */
async function silentServer(): Promise<{ port: number; server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server, sockets };
}

/**
 * A port that lets every connection in (authentication ok, ready for queries) and then answers
 * nothing, or drops the connection at its first statement.
 */
async function acceptingServer(atFirstStatement: 'silent' | 'drop' = 'silent'): Promise<{ port: number; server: Server; sockets: Socket[] }> {
  const accepting = await silentServer();
  accepting.server.on('connection', (socket) =>
    socket.once('data', () => {
      socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0, 0x5a, 0, 0, 0, 5, 0x49]));
      if (atFirstStatement === 'drop') socket.once('data', () => socket.destroy());
    }),
  );
  return accepting;
}

async function closedPort(): Promise<number> {
  const { port, server } = await silentServer();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The error a real call gives. */
async function failureOf(work: () => Promise<unknown>): Promise<Error> {
  const error = await work().then(
    () => undefined,
    (failure: Error) => failure,
  );
  if (!error) throw new Error('expected the call to fail');
  return error;
}
/** The same, wrapped the way drizzle wraps a failed query. */
const wrapped = (cause: Error) => new Error('Failed query: select 1', { cause });
const serverError = (code: string, severity = 'ERROR') => Object.assign(new pg.DatabaseError('server said no', 0, 'error'), { code, severity });

describe('a database that cannot be reached', () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((server) => server.close()));

  it('is told by a refused connection, a pool that times out waiting for one, and a connection lost, also when wrapped', async () => {
    const refusing = new pg.Pool({ host: '127.0.0.1', port: await closedPort(), Client: DatabaseClient });
    const refused = await failureOf(() => refusing.query('select 1'));
    await refusing.end();

    const silent = await silentServer();
    servers.push(silent.server);
    const waiting = new pg.Pool({ host: '127.0.0.1', port: silent.port, connectionTimeoutMillis: 100, Client: DatabaseClient });
    const timedOut = await failureOf(() => waiting.query('select 1'));
    void waiting.end().catch(() => undefined);

    const dropping = await silentServer();
    servers.push(dropping.server);
    const client = new DatabaseClient({ host: '127.0.0.1', port: dropping.port });
    client.on('error', () => undefined);
    const connecting = client.connect();
    await expect.poll(() => dropping.sockets.length).toBe(1);
    dropping.sockets[0]!.destroy();
    const lost = await failureOf(() => connecting);

    for (const error of [refused, timedOut, lost]) {
      expect(isDatabaseUnreachable(error), error.message).toBe(true);
      expect(isDatabaseUnreachable(wrapped(error)), error.message).toBe(true);
    }
  });

  it('is a lost connection the pool has lent out, which fails its work and leaves the process up', async () => {
    const accepting = await acceptingServer();
    servers.push(accepting.server);
    const pool = new pg.Pool({ host: '127.0.0.1', port: accepting.port, Client: DatabaseClient });
    const lent = await pool.connect();
    const ended = new Promise((resolve) => lent.once('end', resolve));
    accepting.sockets[0]!.destroy();
    // Unheard, the loss would be thrown from the socket's handler before the client says it ended.
    await ended;
    const lost = await failureOf(() => lent.query('select 1'));
    expect(lost.message).toMatch(/not queryable/);
    expect(isDatabaseUnreachable(new DrizzleQueryError('begin', [], lost))).toBe(true);
    lent.release(lost);
    await pool.end();
  }, 5000);

  it('is a connection reset in the middle of a query, but not a reset outside one', async () => {
    const accepting = await acceptingServer();
    servers.push(accepting.server);
    const client = new DatabaseClient({ host: '127.0.0.1', port: accepting.port });
    await client.connect();
    const querying = client.query('select 1');
    accepting.sockets[0]!.resetAndDestroy();
    const reset = (await failureOf(() => querying)) as NodeJS.ErrnoException;
    expect(reset.code).toBe('ECONNRESET');
    expect(isDatabaseUnreachable(new DrizzleQueryError('select 1', [], reset))).toBe(true);
    expect(isDatabaseUnreachable(reset)).toBe(false);
  });

  it('is told by the server’s own word: a connection exception, a shutdown, a statement timeout, too many connections', () => {
    for (const error of [serverError('08006'), serverError('57P01', 'FATAL'), serverError('57014'), serverError('53300', 'FATAL')]) {
      expect(isDatabaseUnreachable(wrapped(error)), error.code).toBe(true);
    }
  });

  it('is not what a failed statement says, nor another service out of reach', async () => {
    for (const error of [serverError('42601'), serverError('23505'), serverError('40001'), new Error('something else'), new TypeError('x is undefined')]) {
      expect(isDatabaseUnreachable(wrapped(error))).toBe(false);
    }
    // Storage or a callback receiver refusing a connection is theirs, not the database's.
    const port = await closedPort();
    expect(isDatabaseUnreachable(await failureOf(() => fetch(`http://127.0.0.1:${port}/`)))).toBe(false);
    expect(isDatabaseUnreachable(await failureOf(() => new pg.Client({ host: '127.0.0.1', port }).connect()))).toBe(false);
    expect(isDatabaseUnreachable('a string')).toBe(false);
    expect(isDatabaseUnreachable(undefined)).toBe(false);
  });
});

describe('the reason logged for a database out of reach', () => {
  it('is what the driver said, not the statement the query builder wraps it in', () => {
    const refused = new DatabaseConnectionError(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    expect(reasonOf(new DrizzleQueryError('select "id", "status" from "recordings" where "id" = $1', ['r1'], refused))).toBe('connect ECONNREFUSED 127.0.0.1:5432');
    expect(reasonOf(serverError('57P01', 'FATAL'))).toBe('server said no');
    expect(reasonOf('a string')).toBe('a string');
  });
});

describe('a transaction whose connection is lost at its begin', () => {
  it('gives the connection back, so the pool opens another for the next one', async () => {
    const dropping = await acceptingServer('drop');
    const pool = new pg.Pool({ host: '127.0.0.1', port: dropping.port, max: 1, connectionTimeoutMillis: 1000, Client: DatabaseClient });
    pool.on('error', () => undefined);
    const db = drizzle(pool);
    poolTransactions(db, pool, {});
    try {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const failure = await failureOf(() => db.transaction(async () => 'never run'));
        expect(failure.message).toMatch(/^Failed query: begin/);
        expect(isDatabaseUnreachable(failure)).toBe(true);
      }
      // Kept lent out, the pool's one connection would make this wait out its timeout and fail.
      expect(dropping.sockets).toHaveLength(3);
    } finally {
      await pool.end();
      dropping.server.close();
    }
  });
});

describe('a database with no room to write', () => {
  it('is told from the SQLSTATE either driver gives, through the query builder\'s wrapping', () => {
    const server = Object.assign(new pg.DatabaseError('could not extend file "base/5/16423": No space left on device', 0, 'error'), { code: '53100', severity: 'ERROR' });
    expect(isDatabaseFull(new DrizzleQueryError('insert into "mpcs" …', [], server))).toBe(true);
    // Answered 503 with a Retry-After, as a failure of the service that changed nothing, not a 500.
    expect(knownApiError(new DrizzleQueryError('insert into "mpcs" …', [], server))).toMatchObject({ code: 'database_full', status: 503, retryAfterSeconds: 60 });
    // PGlite's own DatabaseError, as thrown by the embedded engine.
    const embedded = Object.assign(new Error('could not extend file "base/5/16423": No space left on device'), { code: '53100', severity: 'ERROR' });
    expect(isDatabaseFull(embedded)).toBe(true);
    expect(isDatabaseFull(Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' }))).toBe(false);
    // A file error of the gateway's own with the same letters is no database's answer.
    expect(isDatabaseFull(Object.assign(new Error('no space'), { code: '53100' }))).toBe(false);
  });
});
