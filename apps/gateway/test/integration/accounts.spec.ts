import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const running: TestGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((gateway) => gateway.stop()));
});

describe('accounts', () => {
  it('creates one account on the first start when none is configured, and keeps it', async () => {
    if (process.env.MPC_TEST_DB === 'postgres') return; // a restart needs the same embedded data dir
    const dataDir = mkdtempSync(join(tmpdir(), 'mpc-accounts-'));
    try {
      const first = await startTestGateway({ ACCOUNTS: '' }, dataDir);
      running.push(first);
      const created = first.createdAccount!;
      expect(created.authId).toMatch(/^MA[A-Z0-9]{18}$/);
      const auth = `Basic ${Buffer.from(`${created.authId}:${created.authToken}`).toString('base64')}`;
      expect((await fetch(`${first.url}/v1/Account/${created.authId}/MultiPartyCall/`, { headers: { authorization: auth } })).status).toBe(200);
      running.pop();
      await first.close();

      const second = await startTestGateway({ ACCOUNTS: '' }, dataDir);
      running.push(second);
      expect(second.createdAccount).toBeUndefined();
      expect((await fetch(`${second.url}/v1/Account/${created.authId}/Recording/`, { headers: { authorization: auth } })).status).toBe(200);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('uses the configured accounts and creates none', async () => {
    const gateway = await startTestGateway();
    running.push(gateway);
    expect(gateway.createdAccount).toBeUndefined();
    expect((await fetch(`${gateway.api}/Recording/`, { headers: { authorization: gateway.auth } })).status).toBe(200);
  });
});
