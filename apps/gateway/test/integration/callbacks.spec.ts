import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../dist/persistence/row-reader.js';
import { AUTH_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';
import { apiOf } from '../support/api.js';
import { CallbackReceiver } from '../support/callback-receiver.js';

let gateway: TestGateway;
let receiver: CallbackReceiver;
let receiverUrl: string;
let mpcCounter = 0;

beforeAll(async () => {
  gateway = await startTestGateway();
  receiver = new CallbackReceiver(AUTH_TOKEN);
  receiverUrl = await receiver.start();
});
afterAll(async () => {
  await receiver?.stop();
  await gateway?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const api = apiOf(() => gateway);

/** The rows a query of the gateway's own database answers. */
const queryRows = async <T>(query: string) => rowsOf(await gateway.database.db.execute(query)) as T[];

async function liveMpc(): Promise<string> {
  const name = `cb_${++mpcCounter}`;
  await api('POST', `MultiPartyCall/name_${name}/Participant/`, { role: 'Agent', from: '1', to: '2', stay_alone: true });
  return name;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+00:00$/;
const MPC_PARAMS = [
  'EventName', 'EventTimestamp', 'MPCName', 'MPCUUID', 'RecordingDuration', 'RecordingEndTime', 'RecordingFormat',
  'RecordingResourceURL', 'RecordingStartTime', 'RecordingURL', 'RecordingUUID', 'SequenceNumber',
].sort();

describe('recording callbacks', () => {
  it.each([['POST'], ['GET']] as const)('sends every event, signed, in order, with the seed\'s parameters (%s)', async (method) => {
    const name = await liveMpc();
    const url = `${receiverUrl}/rec/${method}?tenant=42&a=x%20y#rc=2&rp=5xx`;
    const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { file_format: 'wav', recording_callback_url: url, recording_callback_method: method });
    expect(started.status).toBe(202);
    const id = started.body.recording_id;
    await sleep(200);
    await api('POST', `MultiPartyCall/name_${name}/Record/Pause/`, {});
    await sleep(200);
    await api('POST', `MultiPartyCall/name_${name}/Record/Resume/`, {});
    await sleep(1100);
    await api('DELETE', `MultiPartyCall/name_${name}/Record/`, {});
    const callbacks = await receiver.waitFor(4, id);

    expect(callbacks.map((callback) => callback.params.EventName)).toEqual([
      'MPCRecordingInitiated', 'MPCRecordingPaused', 'MPCRecordingResumed', 'MPCRecordingCompleted',
    ]);
    expect(callbacks.map((callback) => callback.params.SequenceNumber)).toEqual(['1', '2', '3', '4']);
    const nonces = new Set<string>();
    for (const callback of callbacks) {
      expect(callback.method).toBe(method);
      expect(callback.valid, 'validateV3Signature').toBe(true);
      expect(callback.url).toMatch(new RegExp(`/rec/${method}\\?tenant=42&a=x%20y`));
      expect(callback.url).not.toContain('#');
      expect(callback.headers['x-plivo-signature-ma-v3']).toBe(callback.headers['x-plivo-signature-v3']);
      nonces.add(String(callback.headers['x-plivo-signature-v3-nonce']));
      const { tenant, a, ...params } = method === 'GET' ? callback.params : { tenant: '42', a: 'x y', ...callback.params };
      expect({ tenant, a }).toEqual({ tenant: '42', a: 'x y' });
      expect(Object.keys(params).sort()).toEqual(MPC_PARAMS);
      expect(params).toMatchObject({ MPCName: name, RecordingUUID: id, RecordingFormat: 'wav', RecordingURL: started.body.recording_url });
      expect(params.EventTimestamp).toMatch(TIMESTAMP);
      expect(params.RecordingStartTime).toMatch(TIMESTAMP);
      expect(params.RecordingResourceURL).toBe(`${gateway.api}/Recording/${id}/`);
      expect(Object.values(params).every((value) => typeof value === 'string')).toBe(true);
    }
    expect(nonces.size).toBe(4);
    const completed = callbacks[3]!.params;
    expect(completed.RecordingEndTime).toMatch(TIMESTAMP);
    expect(Number(completed.RecordingDuration)).toBe(1);
    // The file is there when Completed is told.
    expect((await fetch(completed.RecordingURL!)).status).toBe(200);

    const deliveries = await api('GET', `Recording/${id}/Callback/`);
    expect(deliveries.body.objects.map((delivery: { status: string }) => delivery.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect(deliveries.body.objects[0].attempts[0]).toMatchObject({ http_status: 200, error: null });
  });

  it('deletes a recording\'s callback events and their attempts with the recording, and no other\'s', async () => {
    const record = async () => {
      const name = await liveMpc();
      const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { recording_callback_url: `${receiverUrl}/deleted` });
      await sleep(200);
      await api('DELETE', `MultiPartyCall/name_${name}/Record/`, {});
      const id: string = started.body.recording_id;
      await receiver.waitFor(2, id);
      await expect.poll(async () => (await api('GET', `Recording/${id}/Callback/`)).body.objects.map((d: { status: string }) => d.status)).toEqual(['delivered', 'delivered']);
      return id;
    };
    const count = async (query: string) => Number((await queryRows<{ n: string }>(query))[0]!.n);
    const callbackRows = async (id: string) => ({
      events: await count(`select count(*) as n from callback_events where recording_id = '${id}'`),
      attempts: await count(`select count(*) as n from callback_attempts a join callback_events e on e.id = a.event_id where e.recording_id = '${id}'`),
    });
    const [deleted, kept] = [await record(), await record()];
    expect(await callbackRows(deleted)).toEqual({ events: 2, attempts: 2 });
    expect((await api('DELETE', `Recording/${deleted}/`, {})).status).toBe(204);
    expect(await callbackRows(deleted)).toEqual({ events: 0, attempts: 0 });
    expect(await callbackRows(kept)).toEqual({ events: 2, attempts: 2 });
    expect((await api('GET', `Recording/${deleted}/Callback/`)).status).toBe(404);
  });

  it('keeps, when a recording is deleted, its callback events still pending, for them to be delivered', async () => {
    const down = new CallbackReceiver(AUTH_TOKEN);
    const url = await down.start();
    await down.stop();
    const name = await liveMpc();
    const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { recording_callback_url: `${url}/down#rc=5&rt=10000` });
    await api('DELETE', `MultiPartyCall/name_${name}/Record/`, {});
    const id: string = started.body.recording_id;
    const statuses = async () =>
      (await queryRows<{ status: string }>(`select status from callback_events where recording_id = '${id}' order by sequence_number`)).map((row) => row.status);
    // Initiated, and Completed once the file is finished: neither can reach the receiver.
    await expect.poll(statuses).toEqual(['pending', 'pending']);
    expect((await api('DELETE', `Recording/${id}/`, {})).status).toBe(204);
    expect(await statuses()).toEqual(['pending', 'pending']);
  });

  it('deletes a recording stopped a moment before once its file is finished, its Completed event sent all the same', async () => {
    const name = await liveMpc();
    const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { recording_callback_url: `${receiverUrl}/stopped-then-deleted` });
    const id: string = started.body.recording_id;
    await sleep(200);
    expect((await api('DELETE', `MultiPartyCall/name_${name}/Record/`, {})).status).toBe(204);
    expect((await api('DELETE', `Recording/${id}/`, {})).status).toBe(204);
    const callbacks = await receiver.waitFor(2, id);
    expect(callbacks.map((callback) => callback.params.EventName)).toEqual(['MPCRecordingInitiated', 'MPCRecordingCompleted']);
    expect((await api('GET', `Recording/${id}/`)).status).toBe(404);
    expect((await fetch(started.body.recording_url)).status).toBe(404);
    // The event still pending at the delete goes too, once delivered.
    const events = async () => Number((await queryRows<{ n: string }>(`select count(*) as n from callback_events where recording_id = '${id}'`))[0]!.n);
    await expect.poll(events).toBe(0);
  });

  it('sends participant events with MemberID', async () => {
    const name = await liveMpc();
    const { body } = await api('GET', `MultiPartyCall/name_${name}/Participant/`);
    const memberId = body.objects[0].member_id;
    const started = await api('POST', `MultiPartyCall/name_${name}/Participant/${memberId}/Record/`, { record_track_type: 'participant', recording_callback_url: `${receiverUrl}/p` });
    await sleep(300);
    await api('DELETE', `MultiPartyCall/name_${name}/Participant/${memberId}/Record/`, { record_track_type: 'participant' });
    const callbacks = await receiver.waitFor(2, started.body.recording_id);
    expect(callbacks.map((callback) => callback.params.EventName)).toEqual(['ParticipantRecordingInitiated', 'ParticipantRecordingCompleted']);
    expect(callbacks[0]!.params.MemberID).toBe(memberId);
    expect(callbacks.every((callback) => callback.valid)).toBe(true);
  });
});

describe('delivery faults', () => {
  it('retries 5xx as the fragment says, then gives up, without slowing the API', async () => {
    const failing = new CallbackReceiver(AUTH_TOKEN);
    const url = await failing.start();
    failing.respond = (_callback, response) => response.writeHead(500).end('no');
    try {
      const name = await liveMpc();
      const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { recording_callback_url: `${url}/x#rc=2&rp=5xx` });
      const before = performance.now();
      for (let i = 0; i < 10; i += 1) await api('GET', `MultiPartyCall/name_${name}`);
      expect((performance.now() - before) / 10).toBeLessThan(200);
      await failing.waitFor(3, started.body.recording_id, 10000);
      await sleep(300);
      const deliveries = await api('GET', `Recording/${started.body.recording_id}/Callback/`);
      expect(deliveries.body.objects[0].status).toBe('failed');
      expect(deliveries.body.objects[0].attempts.map((attempt: { http_status: number }) => attempt.http_status)).toEqual([500, 500, 500]);
    } finally {
      await failing.stop();
    }
  });

  it('reaches a receiver that was down once it comes back (connect failures are retried)', async () => {
    const late = new CallbackReceiver(AUTH_TOKEN);
    const url = await late.start();
    const port = new URL(url).port;
    await late.stop();
    const name = await liveMpc();
    const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { recording_callback_url: `${url}/late#rc=3` });
    await sleep(500);
    const back = new CallbackReceiver(AUTH_TOKEN);
    await back.start(Number(port));
    try {
      const [callback] = await back.waitFor(1, started.body.recording_id, 10000);
      expect(callback!.params.EventName).toBe('MPCRecordingInitiated');
      expect(callback!.valid).toBe(true);
    } finally {
      await back.stop();
    }
  });

  it('does not follow redirects and does not retry them by default', async () => {
    const redirecting = new CallbackReceiver(AUTH_TOKEN);
    const url = await redirecting.start();
    redirecting.respond = (_callback, response) => response.writeHead(302, { location: `${receiverUrl}/elsewhere` }).end();
    try {
      const name = await liveMpc();
      const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { recording_callback_url: `${url}/r` });
      await redirecting.waitFor(1, started.body.recording_id);
      await sleep(500);
      expect(receiver.received.filter((callback) => callback.url.includes('/elsewhere'))).toHaveLength(0);
      const deliveries = await api('GET', `Recording/${started.body.recording_id}/Callback/`);
      expect(deliveries.body.objects[0]).toMatchObject({ status: 'failed', attempts: [{ http_status: 302 }] });
    } finally {
      await redirecting.stop();
    }
  });

  it('takes a 2xx status line as the answer, however long its body runs, and sends the event once', async () => {
    const chatty = new CallbackReceiver(AUTH_TOKEN);
    const url = await chatty.start();
    const endless: NodeJS.Timeout[] = [];
    chatty.respond = (_callback, response) => {
      response.writeHead(200);
      endless.push(setInterval(() => response.write(Buffer.alloc(16 * 1024)), 5));
    };
    try {
      const name = await liveMpc();
      const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { recording_callback_url: `${url}/chatty#tt=1000&rc=1` });
      await chatty.waitFor(1, started.body.recording_id, 10000);
      await sleep(1500);
      const deliveries = await api('GET', `Recording/${started.body.recording_id}/Callback/`);
      expect(deliveries.body.objects[0]).toMatchObject({ status: 'delivered', attempts: [{ http_status: 200, error: null }] });
      expect(chatty.received.filter((callback) => callback.params.RecordingUUID === started.body.recording_id)).toHaveLength(1);
    } finally {
      endless.forEach(clearInterval);
      await chatty.stop();
    }
  });

  it('times out a slow receiver by the read timeout and retries it', async () => {
    const slow = new CallbackReceiver(AUTH_TOKEN);
    const url = await slow.start();
    let calls = 0;
    slow.respond = (_callback, response) => {
      calls += 1;
      if (calls === 1) setTimeout(() => response.end('late'), 1500);
      else response.end('ok');
    };
    try {
      const name = await liveMpc();
      const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { recording_callback_url: `${url}/slow#rt=300` });
      await slow.waitFor(2, started.body.recording_id, 10000);
      await sleep(300);
      const deliveries = await api('GET', `Recording/${started.body.recording_id}/Callback/`);
      const [first, second] = deliveries.body.objects[0].attempts;
      expect(first).toMatchObject({ http_status: null });
      expect(first.error).toMatch(/^rt:/);
      expect(second).toMatchObject({ http_status: 200 });
      expect(deliveries.body.objects[0].status).toBe('delivered');
    } finally {
      await slow.stop();
    }
  });
});

describe('callback delivery with few slots', () => {
  let small: TestGateway;
  beforeAll(async () => {
    small = await startTestGateway({ CALLBACK_CONCURRENCY: '4' });
  });
  afterAll(() => small?.stop());

  const smallApi = apiOf(() => small);
  const record = async (name: string, url: string) => {
    await smallApi('POST', `MultiPartyCall/name_${name}/Participant/`, { role: 'Agent', from: '1', to: '2', stay_alone: true });
    return (await smallApi('POST', `MultiPartyCall/name_${name}/Record/`, { recording_callback_url: url })).body.recording_id as string;
  };

  it('delivers to a fast receiver while a slow one holds a slot', async () => {
    const slow = new CallbackReceiver(AUTH_TOKEN);
    const slowUrl = await slow.start();
    slow.respond = (_callback, response) => void setTimeout(() => response.end('late'), 4000);
    try {
      const held = await record('slots_slow', `${slowUrl}/slow#rt=10000`);
      await slow.waitFor(1, held);
      const sentAt = performance.now();
      const quick = await record('slots_fast', `${receiverUrl}/fast`);
      await receiver.waitFor(1, quick, 3000);
      expect(performance.now() - sentAt).toBeLessThan(1500);
    } finally {
      await slow.stop();
    }
  });

  it('gives a receiver that hangs no more than all slots but an eighth, however many recordings point at it', async () => {
    const hanging = new CallbackReceiver(AUTH_TOKEN);
    const hangingUrl = await hanging.start();
    hanging.respond = () => undefined;
    try {
      // With 4 slots, 3 may go to one receiver.
      for (let index = 0; index < 5; index += 1) await record(`hang_${index}`, `${hangingUrl}/hang#rt=20000`);
      await hanging.waitFor(3);
      const sentAt = performance.now();
      const quick = await record('hang_fast', `${receiverUrl}/fast`);
      await receiver.waitFor(1, quick, 3000);
      expect(performance.now() - sentAt).toBeLessThan(1500);
      expect(hanging.received).toHaveLength(3);
    } finally {
      await hanging.stop();
    }
  });
});

describe.skipIf(process.env.MPC_TEST_DB === 'postgres')('a stop with a delivery in flight', () => {
  it('cuts the delivery off after a grace period, and sends it again at the next start', { timeout: 30_000 }, async () => {
    const first = await startTestGateway();
    const slow = new CallbackReceiver(AUTH_TOKEN);
    const slowUrl = await slow.start();
    slow.respond = () => undefined; // never answers while the first gateway runs
    let restarted: TestGateway | undefined;
    try {
      const firstApi = apiOf(() => first);
      await firstApi('POST', 'MultiPartyCall/name_stop_cut/Participant/', { role: 'Agent', from: '1', to: '2', stay_alone: true });
      const { recording_id: id } = (await firstApi('POST', 'MultiPartyCall/name_stop_cut/Record/', { recording_callback_url: `${slowUrl}/cut` })).body;
      await slow.waitFor(1, id);
      const stopping = performance.now();
      await first.close();
      expect(performance.now() - stopping).toBeLessThan(4000);

      slow.respond = (_callback, response) => response.end('ok');
      restarted = await startTestGateway({}, first.dataDir);
      const [, again] = await slow.waitFor(2, id);
      expect(again!.params.EventName).toBe('MPCRecordingInitiated');
      await sleep(300);
      const deliveries = (await apiOf(() => restarted!)('GET', `Recording/${id}/Callback/`)).body.objects;
      expect(deliveries[0].status).toBe('delivered');
      expect(deliveries[0].attempts).toHaveLength(1);
    } finally {
      await slow.stop();
      await restarted?.stop();
    }
  });
});

describe('callback address guard', () => {
  it('refuses private and metadata addresses when registered, unless allowed', async () => {
    const strict = await startTestGateway({ CALLBACK_ALLOW_PRIVATE: 'none' });
    try {
      const post = (body: unknown) =>
        fetch(`${strict.api}/MultiPartyCall/name_guard/Record/`, { method: 'POST', headers: { authorization: strict.auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await fetch(`${strict.api}/MultiPartyCall/name_guard/Participant/`, { method: 'POST', headers: { authorization: strict.auth, 'content-type': 'application/json' }, body: JSON.stringify({ role: 'Agent', from: '1', to: '2' }) });
      const mapped = ['http://[::ffff:127.0.0.1]:9/x', 'http://[0:0:0:0:0:ffff:7f00:1]:9/x', 'http://[::ffff:169.254.169.254]/latest', 'http://[64:ff9b::a00:1]/cb'];
      for (const target of ['http://127.0.0.1:9/x', 'http://169.254.169.254/latest', 'http://10.0.0.1/cb', 'http://[::1]/cb', 'http://localhost/cb', ...mapped]) {
        const response = await post({ recording_callback_url: target });
        expect(response.status, target).toBe(400);
        expect(((await response.json()) as { error: string }).error).toMatch(/recording_callback_url/);
      }
    } finally {
      await strict.stop();
    }
  });
});
