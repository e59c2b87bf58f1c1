import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { Logger } from '../common/logger.js';
import { reasonOf } from '../common/reason-of.js';
import { DatabaseClient } from './database-unreachable.js';
import { maintainDatabase, nothingDone, type MaintenanceDone, type MaintenancePolicy } from './maintenance.js';
import { poolTransactions } from './pool-transactions.js';
import { PreparedPglite } from './prepared-pglite.js';
import { holdServerDatabase } from './server-database-lock.js';
import * as schema from './schema.js';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Either the database or a transaction on it: repositories accept both. */
export type Queryable = Database | Transaction;

export interface OpenDatabase {
  db: Database;
  /** Where the data lives, for people: a directory or the server's address without credentials. */
  location: string;
  /**
   * Whether transactions run side by side (a PostgreSQL server's connections), or one at a time
   * (the embedded PGlite's one connection).
   */
  concurrent: boolean;
  ping(): Promise<void>;
  /**
   * Reclaims dead rows, refreshes the planner's statistics, freezes old transaction ids and
   * checkpoints where nothing else does: the embedded PGlite runs no autovacuum, without which the
   * live-recording lookups slow down as recordings come and go and old rows would one day vanish as
   * transaction ids wrap around, and no checkpointer, without which its WAL only grows. A
   * PostgreSQL server does all of it itself. Answers the tables it worked on, and whether it
   * checkpointed.
   */
  maintain(): Promise<MaintenanceDone>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

/**
 * Settings of the embedded engine, on top of PGlite's. A new 16 MiB WAL segment is not filled with
 * zeros first: PGlite writes on the event loop, and zero-filling one (every 16 MB of WAL, about
 * 13,000 recording cycles) held it up for 20-35 ms. Postgres finds the end of WAL by its records'
 * checksums, not by zeros, so this costs nothing but the early reservation of the segment's space.
 */
const EMBEDDED_SETTINGS = ['-c', 'wal_init_zero=off'];

/** PostgreSQL when a URL is given, otherwise PGlite (the same engine, embedded) in `dataDir`. */
export async function openDatabase(options: {
  databaseUrl?: string;
  dataDir: string;
  logger?: Logger;
  /** For the embedded database: how maintain() paces itself, and when it checkpoints and freezes, if not as its defaults say. */
  maintenance?: MaintenancePolicy;
}): Promise<OpenDatabase> {
  if (options.databaseUrl) {
    const url = new URL(options.databaseUrl);
    const location = `postgresql://${url.host}${url.pathname}`;
    const hold = await holdServerDatabase(options.databaseUrl, location, options.logger);
    // Bounded waits: for a connection (also one a busy pool has yet to free), so requests fail
    // rather than queue for good behind a server that stops answering; and for a statement, ended
    // by the server itself, which rolls its transaction back (a client-side timeout could hand a
    // connection back to the pool with its transaction still open). Keep-alive finds a dead peer.
    const pool = new pg.Pool({
      Client: DatabaseClient,
      connectionString: options.databaseUrl,
      max: 10,
      connectionTimeoutMillis: 5000,
      statement_timeout: 30_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // An idle connection the server drops (a restart, a terminated backend, a reset) is an 'error'
    // event on the pool, and an unheard one ends the process. The pool has already discarded that
    // connection and opens a new one for the next query, so it is only worth a line in the log.
    pool.on('error', (error) => options.logger?.warn({ reason: reasonOf(error) }, 'database connection lost while idle; the next query opens a new one'));
    const config = { schema };
    const db = drizzlePg(pool, config);
    poolTransactions(db, pool, config);
    await migratePg(db, { migrationsFolder });
    return {
      db: db as unknown as Database,
      location,
      concurrent: true,
      ping: async () => void (await pool.query('select 1')),
      maintain: async () => nothingDone(),
      close: async () => {
        await pool.end();
        await hold.release();
      },
    };
  }
  const dir = `${options.dataDir}/pgdata`;
  mkdirSync(dir, { recursive: true });
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, ...EMBEDDED_SETTINGS] });
    await migratePglite(drizzlePglite(pglite), { migrationsFolder });
  } catch (error) {
    throw embeddedFailure(dir, error);
  }
  // NodeFS: every write goes to the data directory's files as Postgres makes it.
  const client = new PreparedPglite(pglite, { syncToFs: false });
  const db = drizzlePglite(client as unknown as PGlite, { schema });
  return {
    db: db as unknown as Database,
    location: dir,
    concurrent: false,
    ping: async () => void (await client.query('select 1')),
    maintain: () => maintainDatabase(client, options.maintenance),
    close: () => client.close(),
  };
}

/** The file errors PGlite's file system throws as bare numbers (Emscripten's), by name. */
const EMBEDDED_ERRNOS: Record<number, string> = { 2: 'EACCES: permission denied', 29: 'EIO: i/o error', 44: 'ENOENT: no such file or directory', 51: 'ENOSPC: no space left on device', 69: 'EROFS: read-only file system' };

/** What the embedded database failed with, as an Error that says it: its file system throws plain objects with an errno. */
export function embeddedFailure(dir: string, error: unknown): unknown {
  if (error instanceof Error) return error;
  const errno = (error as { errno?: unknown } | null)?.errno;
  const reason = typeof errno === 'number' ? (EMBEDDED_ERRNOS[errno] ?? `file system error ${errno}`) : String(error);
  return new Error(`the embedded database in ${dir} could not be opened: ${reason}`, { cause: error });
}
