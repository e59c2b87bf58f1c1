import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Logger } from '../common/logger.js';
import { reasonOf } from '../common/reason-of.js';
import { InUseByAnotherGateway } from './data-dir-lock.js';
import { DatabaseClient } from './database-unreachable.js';

/** The advisory lock that marks a database as some gateway's: 'mpc-gateway' in a 64-bit key. */
const LOCK_KEY = '7885618029047742580';
/** How often a hold whose connection was lost is tried again while the server is out of reach or another has it. */
const RETAKE_MS = 5000;
/** How soon it is tried again while a session of this gateway's own name still has it. */
const RETAKE_OWN_MS = 250;

/**
 * Holds a PostgreSQL database for this gateway, as holdDataDir holds the embedded one: a session
 * advisory lock on a connection of its own, which the server lets go of when the connection ends,
 * the process with it. A second gateway on the database refuses to start, rather than fail, as
 * if their gateway had crashed, the recordings the first is writing.
 */
export async function holdServerDatabase(connectionString: string, location: string, logger?: Logger): Promise<{ release(): Promise<void> }> {
  const name = sessionName(process.pid, Math.round(performance.timeOrigin));
  let client = await take(connectionString, name);
  // Held by a process of the same pid on the same host that started at another time: this one's
  // last life (as a container's first process), whose session the server has not found dead yet.
  const lastLife = name.replace(/ since \d+ /, ' since % ');
  if (client === undefined && (await endSessions(connectionString, { like: lastLife, not: name }))) {
    for (let tries = 0; client === undefined && tries < 20; tries += 1) {
      await sleep(RETAKE_OWN_MS);
      client = await take(connectionString, name);
    }
  }
  if (client === undefined) {
    throw new InUseByAnotherGateway(
      `the database ${location} is in use by another gateway (${await holderOf(connectionString)}). One gateway runs on a database: stop that one first, or give this one a database of its own. ` +
        'One whose host died lets go within a minute, once the server finds its connection dead.',
    );
  }
  let released = false;
  const retake = async () => {
    let toldOfOther = false;
    while (!released) {
      // Null: the server is out of reach yet.
      const again = await take(connectionString, name).catch(() => null);
      if (again) {
        if (released) return void (await again.end());
        watch((client = again));
        logger?.info('the database is held for this gateway again');
        return;
      }
      let wait = RETAKE_MS;
      if (again === undefined) {
        const holder = await holderOf(connectionString);
        // The lost connection's session, which the server has not ended yet: it is ended now.
        if (holder.startsWith(name)) wait = (await endSessions(connectionString, { like: name })) ? RETAKE_OWN_MS : RETAKE_MS;
        else if (!toldOfOther) {
          toldOfOther = true;
          logger?.error({ holder }, "another gateway holds the database now: two gateways on one database finish each other's recordings; this one takes it once that one lets go");
        }
      }
      await sleep(wait, undefined, { ref: false });
    }
  };
  const watch = (held: pg.Client) =>
    held.once('error', (error) => {
      if (released) return;
      // As any connection lost to an outage, a warning; another gateway taking the database meanwhile is the error.
      logger?.warn({ reason: reasonOf(error) }, 'the connection that holds the database for this gateway was lost; it is taken again once the server answers');
      void held.end().catch(() => undefined);
      void retake();
    });
  watch(client);
  return {
    release: async () => {
      released = true;
      await client?.end().catch(() => undefined);
    },
  };
}

/** A connection holding the lock, or nothing when another session holds it. */
async function take(connectionString: string, name: string): Promise<pg.Client | undefined> {
  const client = new DatabaseClient({ connectionString, application_name: name, keepAlive: true, keepAliveInitialDelayMillis: 10_000, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ held: boolean }>('select pg_try_advisory_lock($1::bigint) as held', [LOCK_KEY]);
    if (rows[0]!.held) {
      // The server's own keep-alive on this session: the hold of a host that died without a word
      // ends in about 25 s, not in the system's default two hours.
      await client.query(
        "select set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false), set_config('tcp_keepalives_count', '3', false)",
      );
      return client;
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  await client.end();
  return undefined;
}

/**
 * The name this gateway's session goes by: its process, when it started, and its host, as the
 * server keeps it (63 bytes at most), so that the gateway knows its sessions back.
 */
function sessionName(pid: number, startedAt: number): string {
  return `mpc-gateway pid ${pid} since ${startedAt} on ${hostname()}`.slice(0, 63);
}

/** The sessions that hold the lock, as the `from … where` of a query whose $1 is its key. */
const HOLDERS = `from pg_locks as lock join pg_stat_activity as activity using (pid)
  where lock.locktype = 'advisory' and lock.granted and ((lock.classid::bigint << 32) | lock.objid::bigint) = $1::bigint`;

/** Runs one query on a connection of its own, which ends with it. */
async function queryAside<T extends object>(connectionString: string, text: string, values: unknown[]): Promise<T[]> {
  const client = new DatabaseClient({ connectionString, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Ends the sessions that hold the lock under a name `like` a pattern (and `not` one name); answers whether any did. */
async function endSessions(connectionString: string, { like, not = '' }: { like: string; not?: string }): Promise<boolean> {
  const sql = `select pg_terminate_backend(activity.pid) as ended ${HOLDERS} and activity.application_name like $2 and activity.application_name <> $3`;
  const rows = await queryAside<{ ended: boolean }>(connectionString, sql, [LOCK_KEY, like, not]).catch(() => []);
  return rows.some((row) => row.ended);
}

/** Who holds the lock, as the server knows their connection. */
async function holderOf(connectionString: string): Promise<string> {
  try {
    const sql = `select activity.application_name as name, host(activity.client_addr) as address ${HOLDERS}`;
    const [holder] = await queryAside<{ name: string; address: string | null }>(connectionString, sql, [LOCK_KEY]);
    if (!holder) return 'it let go just now';
    return [holder.name || 'a session with no name', holder.address && `from ${holder.address}`].filter(Boolean).join(' ');
  } catch (error) {
    return `it could not be asked: ${reasonOf(error)}`;
  }
}
