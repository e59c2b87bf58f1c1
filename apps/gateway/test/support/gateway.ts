import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../dist/config/config.js';
import { startGateway, type GatewayOverrides, type RunningGateway } from '../../dist/gateway.js';

export const AUTH_ID = 'MATESTACCOUNT0000001';
export const AUTH_TOKEN = 'test-token-0000000000000000000001';
export const OTHER_AUTH_ID = 'MATESTACCOUNT0000002';
export const OTHER_AUTH_TOKEN = 'test-token-0000000000000000000002';
/** How long the test gateway's mix waits for late frames (MEDIA_JITTER_MS). */
export const TEST_JITTER_MS = 250;

export interface TestGateway extends RunningGateway {
  dataDir: string;
  api: string;
  /** Basic auth header for the main test account. */
  auth: string;
  stop(): Promise<void>;
}

/**
 * The PostgreSQL tier runs the same suite against a server: MPC_TEST_DATABASE_URL names an
 * administrative connection, and each gateway gets a database of its own there.
 */
export async function freshDatabaseUrl(): Promise<{ url?: string; drop(): Promise<void> }> {
  const admin = process.env.MPC_TEST_DB === 'postgres' ? process.env.MPC_TEST_DATABASE_URL : undefined;
  if (!admin) return { drop: async () => {} };
  const name = `mpc_test_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = new pg.Client({ connectionString: admin });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

export async function startTestGateway(
  env: Record<string, string> = {},
  dataDir = mkdtempSync(join(tmpdir(), 'mpc-gw-')),
  overrides: GatewayOverrides = {},
): Promise<TestGateway> {
  const database = await freshDatabaseUrl();
  const config = loadConfig({
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    ACCOUNTS: `${AUTH_ID}:${AUTH_TOKEN},${OTHER_AUTH_ID}:${OTHER_AUTH_TOKEN}`,
    RATE_LIMIT_REQUESTS: '0',
    CALLBACK_ALLOW_PRIVATE: 'loopback',
    // Shared test machines stall now and then; a wider window keeps late frames rare.
    MEDIA_JITTER_MS: String(TEST_JITTER_MS),
    LOG_LEVEL: process.env.MPC_TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const gateway = await startGateway(config, overrides);
  return {
    ...gateway,
    dataDir,
    api: `${gateway.url}/v1/Account/${AUTH_ID}`,
    auth: `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`,
    stop: async () => {
      await gateway.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every row of every table, in a stable order: a bad request must leave this unchanged. */
export async function snapshotDatabase(gateway: RunningGateway): Promise<unknown> {
  const tables = ['accounts', 'mpcs', 'participants', 'recordings'];
  const snapshot: Record<string, unknown> = {};
  for (const table of tables) {
    const result = await gateway.database.db.execute(`select * from ${table} order by 1`);
    snapshot[table] = (result as unknown as { rows: unknown[] }).rows;
  }
  return snapshot;
}
