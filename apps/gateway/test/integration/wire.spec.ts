import { operations, type Operation } from '@mpc/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressPath } from '../../dist/common/contract-paths.js';
import { okApiOf } from '../support/api.js';
import { AUTH_ID, OTHER_AUTH_ID, OTHER_AUTH_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(() => gateway?.stop());

const call = (method: string, path: string, body?: string, contentType = 'application/json') =>
  fetch(`${gateway.api}/${path}`, {
    method,
    redirect: 'manual',
    headers: { authorization: gateway.auth, ...(body !== undefined && { 'content-type': contentType }) },
    body,
  });

describe('routes', () => {
  it('has exactly one route per contract operation, and no route outside the contract under /v1', async () => {
    const registered = gateway.routes().filter((route) => route.path.startsWith('/v1/'));
    const expected = (Object.values(operations) as Operation[]).map((operation) => ({ method: operation.method, path: expressPath(operation) }));
    const key = (route: { method: string; path: string }) => `${route.method.toUpperCase()} ${route.path.replace(/\/$/, '')}`;
    expect(registered.map(key).sort()).toEqual(expected.map(key).sort());
  });
});

describe('wire compatibility', () => {
  it('accepts paths with and without the trailing slash, and never redirects', async () => {
    await call('POST', 'MultiPartyCall/name_slash/Participant', '{"role":"Agent","from":"1","to":"2"}');
    for (const path of ['MultiPartyCall/name_slash', 'MultiPartyCall/name_slash/', 'MultiPartyCall/name_slash/Participant', 'MultiPartyCall/name_slash/Participant/']) {
      const response = await call('GET', path);
      expect(response.status, path).toBe(200);
    }
  });

  it('reads form-encoded bodies, booleans in every spelling and enums in any case', async () => {
    const added = await call('POST', 'MultiPartyCall/name_form/Participant/', 'role=SUPERVISOR&from=%2B1&to=%2B2&coach_mode=False&mute=True&max_duration=600', 'application/x-www-form-urlencoded');
    expect(added.status).toBe(201);
    const [participant] = ((await (await call('GET', 'MultiPartyCall/name_form/Participant/')).json()) as { objects: Record<string, unknown>[] }).objects;
    expect(participant).toMatchObject({ role: 'supervisor', coach_mode: false, mute: true });
    const started = await call('POST', 'MultiPartyCall/name_form/Record/', 'file_format=WAV&recording_callback_method=get', 'application/x-www-form-urlencoded');
    expect(started.status).toBe(202);
    expect(((await started.json()) as { recording_url: string }).recording_url).toMatch(/\.wav$/);
  });

  it('reads JSON bodies on DELETE, tolerates JSON content type on GET, and ignores unknown keys', async () => {
    await call('POST', 'MultiPartyCall/name_json/Participant/', '{"role":"Agent","from":"1","to":"2","dial_music":"Real","ring_timeout":45,"sip_headers":"x=y"}');
    expect((await call('POST', 'MultiPartyCall/name_json/Record/', '{"file_format":"mp3","transcript":true}')).status).toBe(202);
    const get = await fetch(`${gateway.api}/MultiPartyCall/name_json`, { headers: { authorization: gateway.auth, 'content-type': 'application/json' } });
    expect(get.status).toBe(200);
    const stopped = await call('DELETE', 'MultiPartyCall/name_json/Record/', '{}');
    expect(stopped.status).toBe(204);
    expect(await stopped.text()).toBe('');
  });

  it('takes the ai-agent role the Python SDK allows, and reports it as Plivo does', async () => {
    expect((await call('POST', 'MultiPartyCall/name_ai/Participant/', '{"role":"ai-agent","from":"1","to":"2"}')).status).toBe(201);
    const { objects } = (await (await call('GET', 'MultiPartyCall/name_ai/Participant/')).json()) as { objects: { role: string }[] };
    expect(objects.map((participant) => participant.role)).toEqual(['ai-agent']);
  });

  it('takes a JSON parameter set to null as one not given', async () => {
    const added = await call('POST', 'MultiPartyCall/name_nulls/Participant/', '{"role":"Agent","from":"1","to":"2","call_uuid":null,"caller_name":null,"max_duration":null}');
    expect(added.status).toBe(201);
    const started = await call('POST', 'MultiPartyCall/name_nulls/Record/', '{"file_format":null,"recording_callback_url":null,"recording_callback_method":null}');
    expect(started.status).toBe(202);
    expect(((await started.json()) as { recording_url: string }).recording_url).toMatch(/\.mp3$/);
    const mpc = (await (await call('GET', 'MultiPartyCall/name_nulls/')).json()) as { max_duration: number };
    expect(mpc.max_duration).toBe(14400);
  });

  it('accepts the creation_time_gt spelling the Node SDK sends', async () => {
    const response = await call('GET', 'MultiPartyCall/?creation_time_gt=2999-01-01%2000%3A00');
    expect(response.status).toBe(200);
    expect(((await response.json()) as { objects: unknown[] }).objects).toEqual([]);
  });

  it('creates exactly one recording from concurrent starts on one MPC', async () => {
    await call('POST', 'MultiPartyCall/name_race/Participant/', '{"role":"Agent","from":"1","to":"2"}');
    const responses = await Promise.all(Array.from({ length: 12 }, () => call('POST', 'MultiPartyCall/name_race/Record/', '{}')));
    const ids = await Promise.all(responses.map(async (response) => ((await response.json()) as { recording_id: string }).recording_id));
    expect(responses.every((response) => response.status === 202)).toBe(true);
    expect(new Set(ids).size).toBe(1);
    const list = (await (await call('GET', 'Recording/?mpc_name=race')).json()) as { meta: { total_count: number } };
    expect(list.meta.total_count).toBe(1);
  });

  it('answers a burst of conflicting commands on one MPC without a 5xx, and ends it', async () => {
    const statuses: number[] = [];
    const send = async (method: string, path: string, body: unknown) => statuses.push((await call(method, `MultiPartyCall/name_burst/${path}`, JSON.stringify(body))).status);
    // More joins at once than the MPC takes (max_participants defaults to 10).
    await Promise.all(Array.from({ length: 12 }, (_, i) => send('POST', 'Participant/', { role: i % 2 ? 'Customer' : 'Agent', from: '1', to: `2${i}` })));
    const listed = (await (await call('GET', 'MultiPartyCall/name_burst/Participant/')).json()) as { objects: { member_id: string }[] };
    const members = listed.objects.map((participant) => participant.member_id);
    expect(members.length).toBeLessThanOrEqual(10);
    await Promise.all([
      ...Array.from({ length: 6 }, () => send('POST', 'Record/', {})),
      ...Array.from({ length: 3 }, () => send('POST', 'Record/Pause/', {})),
      ...Array.from({ length: 3 }, () => send('POST', 'Record/Resume/', {})),
      ...Array.from({ length: 3 }, () => send('DELETE', 'Record/', {})),
      ...members.slice(0, 4).map((member) => send('POST', `Participant/${member}/Record/`, { record_track_type: 'both' })),
      ...members.slice(0, 4).map((member) => send('POST', `Participant/${member}/`, { mute: true, hold: true })),
      ...members.slice(4, 8).map((member) => send('DELETE', `Member/${member}/`, {})),
      send('POST', 'Participant/all/', { mute: false }),
      send('DELETE', '', {}),
      send('POST', 'Participant/', { role: 'Customer', from: '1', to: '3' }),
    ]);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    // Whatever order they ran in, the MPC ended; a join that came after its end made a new one.
    const { objects } = (await (await call('GET', 'MultiPartyCall/?friendly_name=burst')).json()) as { objects: { status: string }[] };
    expect(objects.filter((mpc) => mpc.status === 'Ended')).toHaveLength(1);
    expect(objects.filter((mpc) => mpc.status !== 'Ended').length).toBeLessThanOrEqual(1);
  });

  it('counts in a recordings list\'s meta what its filter selects, whichever table the filter reads', async () => {
    const ok = okApiOf(() => gateway);
    const joined = await ok('POST', 'MultiPartyCall/name_counted/Participant/', { role: 'Agent', from: '+15550001001', to: '+15550002001' });
    await ok('POST', 'MultiPartyCall/name_counted/Participant/', { role: 'Customer', from: '+15550001002', to: '+15550002002' });
    const callUuid = joined.calls[0].call_uuid as string;
    const { objects: present } = await ok('GET', `MultiPartyCall/name_counted/Participant/?call_uuid=${callUuid}`);
    const { mpc_uuid: mpcUuid } = await ok('GET', 'MultiPartyCall/name_counted');
    for (let i = 0; i < 2; i++) {
      expect((await call('POST', 'MultiPartyCall/name_counted/Record/', '{}')).status).toBe(202);
      expect((await call('DELETE', 'MultiPartyCall/name_counted/Record/', '{}')).status).toBe(204);
    }
    expect((await call('POST', `MultiPartyCall/name_counted/Participant/${present[0].member_id}/Record/`, '{}')).status).toBe(200);
    const counted = async (filter: string) => {
      const { meta, objects } = await ok('GET', `Recording/?limit=20&${filter}`);
      expect(objects, filter).toHaveLength(meta.total_count);
      return meta.total_count as number;
    };
    expect(await counted('mpc_name=counted')).toBe(3);
    expect(await counted(`mpc_uuid=${mpcUuid}`)).toBe(3);
    expect(await counted(`call_uuid=${callUuid}`)).toBe(1);
    expect(await counted('from_number=%2B15550001001')).toBe(1);
    expect(await counted(`to_number=%2B15550002002&mpc_uuid=${mpcUuid}`)).toBe(0);
    // A page is the same recordings, in the same order, as that stretch of the whole list.
    const ids = async (filter: string) => ((await ok('GET', `Recording/?${filter}`)).objects as { recording_id: string }[]).map((recording) => recording.recording_id);
    const all = await ids('mpc_name=counted&limit=20');
    expect(await ids('mpc_name=counted&limit=2&offset=1')).toEqual(all.slice(1, 3));
  });

  it('pages an MPC\'s participants as its other lists', async () => {
    const ok = okApiOf(() => gateway);
    for (const to of ['2', '3', '4']) await ok('POST', 'MultiPartyCall/name_paged_members/Participant/', { role: 'Agent', from: '1', to });
    const all = await ok('GET', 'MultiPartyCall/name_paged_members/Participant/');
    expect(all.meta).toMatchObject({ count: 3, limit: 20, offset: 0, next: null, previous: null });
    const page = await ok('GET', 'MultiPartyCall/name_paged_members/Participant/?limit=1&offset=1');
    expect(page.objects).toEqual(all.objects.slice(1, 2));
    expect(page.meta).toMatchObject({ count: 3, limit: 1, offset: 1 });
    expect(page.meta.next).toMatch(/limit=1&offset=2$/);
    expect(page.meta.previous).toMatch(/limit=1&offset=0$/);
  });

  it('finds no MPC and no recording of a subaccount, since every one is the main account\'s', async () => {
    const ok = okApiOf(() => gateway);
    await ok('POST', 'MultiPartyCall/name_main_only/Participant/', { role: 'Agent', from: '1', to: '2', record: true });
    expect((await ok('GET', 'MultiPartyCall/?friendly_name=main_only')).meta.count).toBe(1);
    expect((await ok('GET', 'Recording/?mpc_name=main_only')).meta.total_count).toBe(1);
    const mpcs = await ok('GET', 'MultiPartyCall/?friendly_name=main_only&sub_account=SAXXXXXXXXXXXXXXXXXX');
    expect(mpcs).toMatchObject({ meta: { count: 0 }, objects: [] });
    const recordings = await ok('GET', 'Recording/?mpc_name=main_only&subaccount=SAXXXXXXXXXXXXXXXXXX');
    expect(recordings).toMatchObject({ meta: { total_count: 0 }, objects: [] });
  });

  it('pages lists with meta links', async () => {
    for (const name of ['page_a', 'page_b', 'page_c']) await call('POST', `MultiPartyCall/name_${name}/Participant/`, '{"role":"Agent","from":"1","to":"2"}');
    const page = (await (await call('GET', 'MultiPartyCall/?limit=2&offset=1')).json()) as { meta: Record<string, unknown>; objects: unknown[] };
    expect(page.objects).toHaveLength(2);
    const all = (await (await call('GET', 'MultiPartyCall/?limit=20')).json()) as { objects: unknown[] };
    expect(page.objects).toEqual(all.objects.slice(1, 3));
    expect(page.meta.previous).toMatch(/offset=0/);
    expect(page.meta.offset).toBe(1);
  });
});

describe('record on add participant', () => {
  const ok = okApiOf(() => gateway);
  const recordingOf = async (name: string) => (await ok('GET', `MultiPartyCall/name_${name}`)).recording as string;
  const recordingsOf = async (name: string) => (await ok('GET', `Recording/?mpc_name=${name}`)).objects as { recording_format: string }[];

  it('starts the MPC recording when the participant joins an active MPC', async () => {
    await ok('POST', 'MultiPartyCall/name_rec_join/Participant/', { role: 'Agent', from: '1', to: '2', record: true, record_file_format: 'wav' });
    expect(await recordingOf('rec_join')).toBe('recording');
    expect((await recordingsOf('rec_join')).map((recording) => recording.recording_format)).toEqual(['wav']);
  });

  it('waits for record_min_member_count participants', async () => {
    await ok('POST', 'MultiPartyCall/name_rec_two/Participant/', { role: 'Agent', from: '1', to: '2', record: 'true', record_min_member_count: '2' });
    expect(await recordingOf('rec_two')).toBe('not-recording');
    expect(await recordingsOf('rec_two')).toEqual([]);
    await ok('POST', 'MultiPartyCall/name_rec_two/Participant/', { role: 'Customer', from: '1', to: '3' });
    expect(await recordingOf('rec_two')).toBe('recording');
    // The wish is spent once the recording started: a recording stopped stays stopped as others join.
    await ok('DELETE', 'MultiPartyCall/name_rec_two/Record/', {});
    await ok('POST', 'MultiPartyCall/name_rec_two/Participant/', { role: 'Customer', from: '1', to: '4' });
    expect(await recordingOf('rec_two')).toBe('not-recording');
    expect(await recordingsOf('rec_two')).toHaveLength(1);
  });

  it('waits for an MPC that does not start on enter to be activated', async () => {
    await ok('POST', 'MultiPartyCall/name_rec_later/Participant/', { role: 'Agent', from: '1', to: '2', record: true, start_mpc_on_enter: false });
    expect(await recordingOf('rec_later')).toBe('not-recording');
    await ok('POST', 'MultiPartyCall/name_rec_later/', { status: 'active' });
    expect(await recordingOf('rec_later')).toBe('recording');
  });
});

describe('rate limit', () => {
  it('answers 429 in Plivo\'s body once an account is over its limit', async () => {
    const limited = await startTestGateway({ RATE_LIMIT_REQUESTS: '5', RATE_LIMIT_WINDOW_MS: '60000' });
    try {
      const statuses = [];
      for (let i = 0; i < 7; i += 1) {
        const response = await fetch(`${limited.api}/MultiPartyCall/`, { headers: { authorization: limited.auth } });
        statuses.push(response.status);
        if (response.status === 429) {
          expect(((await response.json()) as { error: string }).error).toMatch(/rate limit/);
          // The next of 5 requests a minute comes 12 s after the first.
          expect(Number(response.headers.get('retry-after'))).toBeOneOf([11, 12]);
        }
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    } finally {
      await limited.stop();
    }
  });
});

describe('recording files behind credentials (RECORDING_MEDIA_AUTH=true)', () => {
  it('challenges a download without the account\'s credentials, in Plivo\'s body, and serves it with them', async () => {
    const guarded = await startTestGateway({ RECORDING_MEDIA_AUTH: 'true' });
    try {
      const api = (method: string, path: string, body?: unknown) =>
        fetch(`${guarded.api}/${path}`, { method, headers: { authorization: guarded.auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      await api('POST', 'MultiPartyCall/name_guarded/Participant/', { role: 'Agent', from: '1', to: '2', stay_alone: true });
      const { recording_url: url } = (await (await api('POST', 'MultiPartyCall/name_guarded/Record/', { file_format: 'wav' })).json()) as { recording_url: string };
      await new Promise((resolve) => setTimeout(resolve, 300));
      await api('DELETE', 'MultiPartyCall/name_guarded/Record/', {});
      let served: Response | undefined;
      for (let attempt = 0; attempt < 50 && served?.status !== 200; attempt += 1) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
        served = await fetch(url, { headers: { authorization: guarded.auth } });
      }
      expect(served!.status).toBe(200);
      expect(served!.headers.get('content-type')).toBe('audio/wav');

      const other = `Basic ${Buffer.from(`${OTHER_AUTH_ID}:${OTHER_AUTH_TOKEN}`).toString('base64')}`;
      for (const headers of [{}, { authorization: other }, { authorization: `Basic ${Buffer.from(`${AUTH_ID}:wrong`).toString('base64')}` }]) {
        const refused = await fetch(url, { headers });
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
        expect(Object.keys((await refused.json()) as object).sort()).toEqual(['api_id', 'error']);
      }
    } finally {
      await guarded.stop();
    }
  });
});

describe('health', () => {
  it('answers liveness and readiness', async () => {
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${gateway.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('answers the metrics as JSON and in Prometheus\'s text format, with the same figures', async () => {
    const json = (await (await fetch(`${gateway.url}/health/metrics`)).json()) as { recorder: { streams: { ended: number } } };
    const prometheus = await fetch(`${gateway.url}/health/metrics/prometheus`);
    expect(prometheus.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await prometheus.text();
    expect(text).toContain('# TYPE mpc_calls gauge\n');
    expect(text).toMatch(new RegExp(`^mpc_streams_ended_total ${json.recorder.streams.ended}$`, 'm'));
  });
});
