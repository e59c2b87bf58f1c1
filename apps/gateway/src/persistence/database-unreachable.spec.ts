import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isDatabaseUnreachable } from './database-unreachable.js';

/** A port that accepts connections and never answers, as a frozen server does. */
async function silentServer(): Promise<{ port: number; server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server, sockets };
}

/** The error a real driver call gives, and the same wrapped the way drizzle wraps a failed query. */
async function failureOf(work: () => Promise<unknown>): Promise<Error> {
  const error = await work().then(
    () => undefined,
    (failure: Error) => failure,
  );
  if (!error) throw new Error('expected the call to fail');
  return error;
}
const wrapped = (cause: Error) => new Error('Failed query: select 1', { cause });

describe('a database that cannot be reached', () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((server) => server.close()));

  it('is told by a refused connection, a pool that times out waiting for one, and a connection lost mid-query, also when wrapped', async () => {
    const closed = await silentServer();
    closed.server.close();
    const refused = await failureOf(() => new pg.Client({ host: '127.0.0.1', port: closed.port, connectionTimeoutMillis: 2000 }).connect());

    const silent = await silentServer();
    servers.push(silent.server);
    const pool = new pg.Pool({ host: '127.0.0.1', port: silent.port, connectionTimeoutMillis: 100 });
    const timedOut = await failureOf(() => pool.query('select 1'));
    void pool.end().catch(() => undefined);

    const dropping = await silentServer();
    servers.push(dropping.server);
    const client = new pg.Client({ host: '127.0.0.1', port: dropping.port });
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

  it('is told by the server’s own word: a connection exception, a shutdown, a statement timeout, a FATAL error', () => {
    const serverError = (code: string, severity = 'ERROR') => Object.assign(new Error('server said no'), { code, severity });
    for (const error of [serverError('08006'), serverError('57P01', 'FATAL'), serverError('57014'), serverError('53300', 'FATAL'), serverError('55000', 'FATAL')]) {
      expect(isDatabaseUnreachable(wrapped(error)), (error as { code: string }).code).toBe(true);
    }
  });

  it('is not what a failed statement says: a bad query, a broken constraint, or anything else', () => {
    const serverError = (code: string) => Object.assign(new Error('server said no'), { code, severity: 'ERROR' });
    for (const error of [serverError('42601'), serverError('23505'), serverError('40001'), new Error('something else'), new TypeError('x is undefined')]) {
      expect(isDatabaseUnreachable(wrapped(error))).toBe(false);
    }
    expect(isDatabaseUnreachable('a string')).toBe(false);
    expect(isDatabaseUnreachable(undefined)).toBe(false);
  });
});
