import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ID, AUTH_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(() => gateway?.stop());

/** The official SDK, unmodified, in a process of its own: only its constructor's `proxy` option points it at the gateway. */
const SDK_SCRIPT = `
const plivo = require('plivo');
const [authId, authToken, proxy] = process.argv.slice(1);
(async () => {
  const client = new plivo.Client(authId, authToken, { proxy });
  const added = await client.multiPartyCalls.addParticipant('Agent', { friendlyName: 'proxied', from: '+14155550100', to: '+14155550101' });
  const started = await client.multiPartyCalls.startRecording({ friendlyName: 'proxied', fileFormat: 'wav' });
  const stopped = await client.multiPartyCalls.stopRecording({ friendlyName: 'proxied' });
  const recording = await client.recordings.get(started.recordingId);
  process.stdout.write(JSON.stringify({ added, started, stopped, recording }));
})().catch((error) => {
  process.stdout.write(JSON.stringify({ error: String(error) }));
});
`;

async function runSdk(env: Record<string, string>) {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', SDK_SCRIPT, AUTH_ID, AUTH_TOKEN, gateway.url], {
    cwd: new URL('..', import.meta.url).pathname,
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  });
  return JSON.parse(stdout);
}

describe('the official SDK through its proxy option', () => {
  it('reaches the gateway, which serves api.plivo.com inside the tunnel with the certificate of its own CA', async () => {
    expect(gateway.sdkProxyCa).toBe(`${gateway.dataDir}/tls/gateway-ca.pem`);
    const result = await runSdk({ NODE_EXTRA_CA_CERTS: gateway.sdkProxyCa! });
    expect(result.error).toBeUndefined();
    expect(result.added.message).toBe('add participant action initiated');
    expect(result.started).toMatchObject({ message: 'MPC: proxied record started', recordingId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(result.recording).toMatchObject({ recordingId: result.started.recordingId, recordingFormat: 'wav', conferenceName: 'proxied' });
    const { objects } = await fetch(`${gateway.api}/Recording/?mpc_name=proxied`, { headers: { authorization: gateway.auth } }).then((response) => response.json());
    expect(objects.map((recording: { recording_id: string }) => recording.recording_id)).toEqual([result.started.recordingId]);
  });

  it("is refused by a client that does not trust the gateway's CA: the tunnel is real TLS", async () => {
    const result = await runSdk({});
    expect(result.error).toMatch(/unable to verify the first certificate/);
  });

  it('refuses a tunnel to any other host', async () => {
    for (const target of ['example.com:443', 'api.plivo.com:80', '127.0.0.1:5432']) {
      const answer = await connectThrough(gateway, target);
      expect(answer.split('\r\n')[0], target).toBe('HTTP/1.1 403 Forbidden');
    }
  });

  it('is refused with 405, saying why, where tunnels are off', async () => {
    const off = await startTestGateway({ SDK_PROXY: 'false' });
    try {
      const answer = await connectThrough(off, 'api.plivo.com:443');
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 405 Method Not Allowed');
      expect(answer).toContain('SDK_PROXY=false');
    } finally {
      await off.stop();
    }
  });
});

/** What the gateway answers a CONNECT to `target`, whole. */
async function connectThrough(through: TestGateway, target: string): Promise<string> {
  const socket = connect(Number(new URL(through.url).port), '127.0.0.1');
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  let answer = '';
  for await (const chunk of socket) answer += String(chunk);
  return answer;
}
