import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { okApiOf } from '../support/api.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const onServer = process.env.MPC_TEST_DB === 'postgres';

describe.skipIf(!onServer)('a PostgreSQL server dropping idle connections', () => {
  let gateway: TestGateway;
  const logged: { level: number; msg: string }[] = [];
  const api = okApiOf(() => gateway);

  beforeAll(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    gateway = await startTestGateway({}, undefined, { logger });
  });
  afterAll(() => gateway?.stop());

  it('keeps the gateway up: the loss is logged and the next request opens a new connection', async () => {
    await Promise.all(Array.from({ length: 4 }, (_, index) => api('POST', `MultiPartyCall/name_idle_${index}/Participant/`, { role: 'Agent', call_uuid: `idle-${index}` })));
    const database = new URL(gateway.database.location).pathname.slice(1);
    const admin = new pg.Client({ connectionString: process.env.MPC_TEST_DATABASE_URL });
    await admin.connect();
    const terminated = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
    await admin.end();
    expect(terminated.rowCount).toBeGreaterThan(0);

    for (let waited = 0; !logged.some((line) => line.msg.includes('database connection lost')) && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(logged.filter((line) => line.msg.includes('database connection lost')).length).toBeGreaterThan(0);
    const listed = await api('GET', 'MultiPartyCall/');
    expect(listed.meta.count).toBe(4);
  });
});
