import { DrizzleQueryError } from 'drizzle-orm';
import pg from 'pg';
import { causesOf } from '../common/reason-of.js';

/** A connection to the database server that could not be made, whatever the reason given. */
export class DatabaseConnectionError extends Error {
  constructor(cause: Error) {
    super(`the database server cannot be reached: ${cause.message}`, { cause });
    this.name = 'DatabaseConnectionError';
  }
}

type Connected = (error: Error | null, client?: pg.Client) => void;

/**
 * node-postgres's client, whose failures to connect are marked as such: a refused or timed-out
 * socket is then known to be the database's, not storage's or a callback receiver's.
 */
export class DatabaseClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // A connection lost while the pool has it lent out (a transaction between statements, say) is
    // an 'error' event the pool does not listen for, and an unheard one ends the process. The work
    // on that connection already fails with the loss, so the event itself needs no answer.
    this.on('error', () => undefined);
  }

  override connect(): Promise<pg.Client>;
  override connect(callback: Connected): void;
  override connect(callback?: Connected): Promise<pg.Client> | void {
    if (callback) {
      super.connect(((error: Error | null, client?: pg.Client) => callback(error && new DatabaseConnectionError(error), client)) as (error: Error) => void);
      return;
    }
    return super.connect().catch((error: Error) => {
      throw new DatabaseConnectionError(error);
    });
  }
}

/**
 * SQLSTATEs of a server that cannot serve now: connection exceptions (class 08), too many
 * connections, a statement cancelled (its timeout: a server that stopped answering), and a server
 * shutting down, restarting or starting.
 */
const UNAVAILABLE_STATES = new Set(['53300', '57014', '57P01', '57P02', '57P03']);

/**
 * What node-postgres and its pool throw when a connection is lost or none comes in time, and what
 * a query on a connection already lost is told (a transaction's next statement, or its rollback).
 */
const CONNECTION_MESSAGES = /^(timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error)/;

/**
 * A socket's own failure, which inside a failed query is the database server's connection lost
 * mid-statement (drizzle also wraps its query cache's errors so, but none is configured).
 */
const SOCKET_FAILURES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * Whether an error, or one it was caused by (query builders wrap the driver's), says the database
 * server could not be reached or could not serve: a failure of the service, not of the request.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  let inQuery = false;
  for (const cause of causesOf(error)) {
    if (cause instanceof DatabaseConnectionError || CONNECTION_MESSAGES.test(cause.message)) return true;
    inQuery ||= cause instanceof DrizzleQueryError;
    if (inQuery && SOCKET_FAILURES.has((cause as NodeJS.ErrnoException).code ?? '')) return true;
    if (cause instanceof pg.DatabaseError && cause.code !== undefined && (UNAVAILABLE_STATES.has(cause.code) || cause.code.startsWith('08'))) return true;
  }
  return false;
}

/**
 * Whether the database refused a write for want of disk space (SQLSTATE 53100), as PostgreSQL or
 * the embedded PGlite reports it: the write did not happen, and one after room is made will.
 */
export function isDatabaseFull(error: unknown): boolean {
  for (const cause of causesOf(error)) {
    // Both drivers' errors from the server carry its severity and SQLSTATE.
    if ('severity' in cause && (cause as { code?: unknown }).code === '53100') return true;
  }
  return false;
}
