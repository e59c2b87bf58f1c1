import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { okApiOf } from '../support/api.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mpc-restart-'));
let gateway: TestGateway | undefined;
afterAll(async () => {
  await gateway?.close();
  rmSync(dataDir, { recursive: true, force: true });
});
const api = okApiOf(() => gateway!);

describe.skipIf(process.env.MPC_TEST_DB === 'postgres')('a restart after a crash', () => {
  it('hangs up together the participants whose streams the crash cut, so their MPC ends emptied (1000), not with one left alone (1010)', async () => {
    gateway = await startTestGateway({}, dataDir);
    for (const to of ['101', '102']) await api('POST', 'MultiPartyCall/name_cut_off/Participant/', { role: 'Customer', from: '100', to });
    const { mpc_uuid: mpcUuid } = await api('GET', 'MultiPartyCall/name_cut_off/');
    // As a crash leaves them: both streaming when the process died, neither hung up.
    await gateway.database.db.execute(`update participants set streamed_at = now() where mpc_uuid = '${mpcUuid}'`);
    await gateway.close();

    gateway = await startTestGateway({}, dataDir);
    expect(await api('GET', `MultiPartyCall/uuid_${mpcUuid}/`)).toMatchObject({ status: 'Ended', termination_cause_code: 1000 });
    const { objects } = await api('GET', `MultiPartyCall/uuid_${mpcUuid}/Participant/`);
    expect(objects.map((participant: { exit_cause: string }) => participant.exit_cause)).toEqual(['Participant Call Hangup', 'Participant Call Hangup']);
  });
});
