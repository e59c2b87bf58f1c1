import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../dist/config/config.js';
import { startGateway } from '../../dist/gateway.js';
import { InUseByAnotherGateway } from '../../dist/persistence/data-dir-lock.js';
import { okApiOf } from '../support/api.js';
import { AUTH_ID, AUTH_TOKEN, snapshotDatabase, startTestGateway, type TestGateway } from '../support/gateway.js';

const onServer = process.env.MPC_TEST_DB === 'postgres';

let first: TestGateway;
const api = okApiOf(() => first);
const dirs: string[] = [];
beforeAll(async () => {
  first = await startTestGateway();
});
afterAll(async () => {
  await first?.stop();
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

/** Starts a second gateway as its own config says, beside the first. */
function startSecond(env: Record<string, string>) {
  return startGateway(loadConfig({ PORT: '0', ACCOUNTS: `${AUTH_ID}:${AUTH_TOKEN}`, LOG_LEVEL: 'silent', ...env }));
}

/** A live recording of the first gateway, and its rows as they stand. */
async function liveRecording(mpc: string) {
  await api('POST', `MultiPartyCall/name_${mpc}/Participant/`, { role: 'Agent', from: '1', to: '2', stay_alone: true });
  const { recording_id: id } = await api('POST', `MultiPartyCall/name_${mpc}/Record/`, { file_format: 'wav' });
  return { id: id as string, rows: await snapshotDatabase(first) };
}

describe('one gateway on a data directory', () => {
  it('refuses a second gateway on it, naming the first, and leaves the first one\'s recording live', async () => {
    const { id, rows } = await liveRecording('held_dir');
    const second = startSecond({ DATA_DIR: first.dataDir, DATABASE_URL: '' });
    await expect(second).rejects.toThrow(InUseByAnotherGateway);
    await expect(second).rejects.toThrow(`DATA_DIR ${first.dataDir} is in use by another gateway (pid ${process.pid}, serving ${first.url})`);
    expect(await snapshotDatabase(first)).toEqual(rows);
    expect((await api('GET', `Recording/${id}/`)).recording_status).toBe('recording');
  });
});

describe('a data directory a gateway that died left held', () => {
  const lockModule = new URL('../../dist/persistence/data-dir-lock.js', import.meta.url).href;
  /** A process that holds the directory for a moment, as a starting gateway does; answers what it got. */
  const holder = (dir: string) =>
    new Promise<string>((resolve) => {
      const script = `const { holdDataDir } = await import(${JSON.stringify(lockModule)});
        holdDataDir(process.argv[1]).then((hold) => { process.stdout.write('held'); setTimeout(() => process.exit(0), 500); }, (error) => { process.stdout.write(error.name === 'Error' && /in use/.test(error.message) ? 'refused' : String(error)); process.exit(0); });`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let said = '';
      child.stdout.on('data', (chunk: Buffer) => (said += chunk));
      child.on('exit', () => resolve(said));
    });

  it('is taken over by one of two gateways starting at once, the other refused', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 8; round += 1) {
      const dir = mkdtempSync(join(tmpdir(), 'mpc-takeover-'));
      dirs.push(dir);
      // A socket left behind: bound, then its process killed.
      spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(join(dir, 'gateway.lock'))}, () => process.kill(process.pid, 'SIGKILL'))`]);
      expect((await Promise.all([holder(dir), holder(dir)])).sort(), `round ${round}`).toEqual(['held', 'refused']);
    }
  });
});

describe.skipIf(!onServer)('one gateway on a PostgreSQL database', () => {
  /** The first gateway's database, with the credentials of the test server. */
  const databaseUrl = () => {
    const url = new URL(process.env.MPC_TEST_DATABASE_URL!);
    url.pathname = new URL(first.database.location).pathname;
    return url.toString();
  };
  const otherDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpc-second-'));
    dirs.push(dir);
    return dir;
  };

  it('refuses a second gateway on it whatever its DATA_DIR, naming the first, and leaves the first one\'s recording live', async () => {
    const { rows } = await liveRecording('held_db');
    const second = startSecond({ DATA_DIR: otherDataDir(), DATABASE_URL: databaseUrl() });
    await expect(second).rejects.toThrow(InUseByAnotherGateway);
    await expect(second).rejects.toThrow(/is in use by another gateway \(mpc-gateway pid \d+ since \d+ on .+\)/);
    expect(await snapshotDatabase(first)).toEqual(rows);
  });

  it('holds the database again once the connection that held it is cut', async () => {
    const admin = new pg.Client({ connectionString: databaseUrl() });
    await admin.connect();
    try {
      const cut = await admin.query<{ pid: number }>(`select pid, pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name like 'mpc-gateway pid %'`);
      expect(cut.rowCount).toBe(1);
      // Held on a new connection: the one cut holds it until its backend has exited, which takes a moment.
      const held = async () => (await admin.query(`select 1 from pg_locks where locktype = 'advisory' and granted and pid <> $1`, [cut.rows[0]!.pid])).rowCount;
      await expect.poll(held, { timeout: 10_000 }).toBe(1);
    } finally {
      await admin.end();
    }
    await expect(startSecond({ DATA_DIR: otherDataDir(), DATABASE_URL: databaseUrl() })).rejects.toThrow(InUseByAnotherGateway);
  });

  it('starts where the database is held by a session of an earlier process of its pid on its host, which the server has not found dead', async () => {
    const url = databaseUrl().replace(/\/[^/]*$/, '/postgres');
    const stale = new pg.Client({ connectionString: `${url}`, application_name: `mpc-gateway pid ${process.pid} since ${Math.round(performance.timeOrigin) - 60_000} on ${hostname()}`.slice(0, 63) });
    stale.on('error', () => undefined);
    const dataDir = otherDataDir();
    await stale.connect();
    await stale.query('select pg_try_advisory_lock(7885618029047742580)');
    const ended = new Promise((resolve) => stale.once('end', resolve));
    const second = await startSecond({ DATA_DIR: dataDir, DATABASE_URL: url });
    try {
      await ended;
    } finally {
      await second.close();
    }
  });
});
