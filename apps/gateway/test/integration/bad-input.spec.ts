import { STATUS_CODES } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTHER_AUTH_ID, OTHER_AUTH_TOKEN, snapshotDatabase, startTestGateway, type TestGateway } from '../support/gateway.js';

let gateway: TestGateway;
let otherMpcPath: string;

beforeAll(async () => {
  gateway = await startTestGateway();
  const json = (body: unknown) => ({ method: 'POST', headers: { authorization: gateway.auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await fetch(`${gateway.api}/MultiPartyCall/name_bad/Participant/`, json({ role: 'Agent', from: '+1', to: '+2' }));
  await fetch(`${gateway.api}/MultiPartyCall/name_bad/Participant/`, json({ role: 'Customer', from: '+1', to: '+3' }));
  await fetch(`${gateway.api}/MultiPartyCall/name_bad/Record/`, json({}));
  const other = `Basic ${Buffer.from(`${OTHER_AUTH_ID}:${OTHER_AUTH_TOKEN}`).toString('base64')}`;
  await fetch(`${gateway.url}/v1/Account/${OTHER_AUTH_ID}/MultiPartyCall/name_theirs/Participant/`, {
    ...json({ role: 'Agent', from: '+1', to: '+2' }),
    headers: { authorization: other, 'content-type': 'application/json' },
  });
  const listed = await fetch(`${gateway.url}/v1/Account/${OTHER_AUTH_ID}/MultiPartyCall/?friendly_name=theirs`, { headers: { authorization: other } });
  const { objects } = (await listed.json()) as { objects: { mpc_uuid: string }[] };
  otherMpcPath = `MultiPartyCall/uuid_${objects[0]!.mpc_uuid}`;
});
afterAll(() => gateway?.stop());

interface BadRequest {
  name: string;
  method: string;
  path: () => string;
  body?: string;
  contentType?: string;
  auth?: string;
  status: number;
  error: RegExp;
}

const cases: BadRequest[] = [
  { name: 'bad file_format', method: 'POST', path: () => 'MultiPartyCall/name_bad/Record/', body: '{"file_format":"ogg"}', status: 400, error: /file_format: must be one of mp3, wav/ },
  { name: 'bad recording_callback_method', method: 'POST', path: () => 'MultiPartyCall/name_bad/Record/', body: '{"recording_callback_method":"PUT"}', status: 400, error: /recording_callback_method: must be one of GET, POST/ },
  { name: 'a callback URL whose user name holds a bad escape', method: 'POST', path: () => 'MultiPartyCall/name_bad/Record/', body: '{"recording_callback_url":"http://u:%zz@example.com/cb"}', status: 400, error: /recording_callback_url: has a user name or password with an escape that is no UTF-8/ },
  { name: 'malformed callback URL', method: 'POST', path: () => 'MultiPartyCall/name_bad/Record/', body: '{"recording_callback_url":"not a url"}', status: 400, error: /recording_callback_url: must be an absolute http or https URL/ },
  { name: 'unknown MPC', method: 'POST', path: () => 'MultiPartyCall/name_nobody/Record/', body: '{}', status: 404, error: /multiparty call not found/ },
  { name: "another account's MPC", method: 'POST', path: () => `${otherMpcPath}/Record/`, body: '{}', status: 404, error: /multiparty call not found/ },
  { name: "another account's path", method: 'GET', path: () => `../${OTHER_AUTH_ID}/MultiPartyCall/`, status: 401, error: /authentication failed/ },
  { name: 'wrong password', method: 'POST', path: () => 'MultiPartyCall/name_bad/Record/Pause/', body: '{}', auth: 'wrong-password', status: 401, error: /^authentication failed$/ },
  { name: 'no credentials', method: 'DELETE', path: () => 'MultiPartyCall/name_bad/', body: '{}', auth: '', status: 401, error: /^authentication failed$/ },
  { name: 'malformed JSON', method: 'POST', path: () => 'MultiPartyCall/name_bad/Record/', body: '{"file_format":', status: 400, error: /not valid JSON/ },
  // Refused on its credentials before its body is read: parsing is no work to make for a caller without them.
  { name: 'a malformed 1 MB body without credentials', method: 'POST', path: () => 'MultiPartyCall/name_bad/Record/', body: `{"pad":"${'x'.repeat(1024 * 1024 - 20)}`, auth: '', status: 401, error: /^authentication failed$/ },
  { name: 'a malformed body with a wrong password', method: 'POST', path: () => 'MultiPartyCall/name_bad/Record/', body: '{"file_format":', auth: 'wrong-password', status: 401, error: /^authentication failed$/ },
  { name: 'JSON that is not an object', method: 'POST', path: () => 'MultiPartyCall/name_bad/Record/', body: '["mp3"]', status: 400, error: /must be a JSON object/ },
  { name: 'a 10 MB body', method: 'POST', path: () => 'MultiPartyCall/name_bad/Record/', body: JSON.stringify({ pad: 'x'.repeat(10 * 1024 * 1024) }), status: 413, error: /request body larger than/ },
  { name: 'name_a%2Fb', method: 'POST', path: () => 'MultiPartyCall/name_a%2Fb/Record/', body: '{}', status: 400, error: /friendly name may not contain/ },
  { name: 'an MPC id without prefix', method: 'GET', path: () => 'MultiPartyCall/bad', status: 400, error: /must be name_<friendly_name> or uuid_<mpc_uuid>/ },
  { name: 'unknown member', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/999999/', body: '{"mute":true}', status: 404, error: /member 999999 not found/ },
  { name: 'coach_mode for all', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/all/', body: '{"coach_mode":true}', status: 400, error: /coach_mode cannot be set for member all/ },
  { name: 'update with nothing to change', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/all/', body: '{}', status: 400, error: /one of mute, hold or coach_mode is required/ },
  { name: 'resume while recording', method: 'POST', path: () => 'MultiPartyCall/name_bad/Record/Resume/', body: '{}', status: 400, error: /the recording is not paused/ },
  { name: 'add participant without from/to', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/', body: '{"role":"Agent"}', status: 400, error: /from and to are required unless call_uuid is given/ },
  { name: 'bad role', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/', body: '{"role":"boss","from":"1","to":"2"}', status: 400, error: /role: must be one of Agent, Supervisor, Customer/ },
  { name: 'record_min_member_count out of range', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/', body: '{"role":"Agent","from":"1","to":"2","record":true,"record_min_member_count":3}', status: 400, error: /record_min_member_count/ },
  { name: 'several destinations for a Customer', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/', body: '{"role":"Customer","from":"1","to":"2<3"}', status: 400, error: /to: several destinations \(separated by <\) are allowed for role Agent only/ },
  { name: '21 destinations', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/', body: JSON.stringify({ role: 'Agent', from: '1', to: Array.from({ length: 21 }, (_, i) => i + 1).join('<') }), status: 400, error: /to: at most 20 destinations/ },
  { name: 'bad confirm_key', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/', body: '{"role":"Agent","from":"1","to":"2","confirm_key":"A"}', status: 400, error: /confirm_key: must be one of 0-9, # or \*/ },
  { name: 'bad status_callback_events', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/', body: '{"role":"Agent","from":"1","to":"2","status_callback_events":"mpc-state-changes,bogus"}', status: 400, error: /status_callback_events: must be a comma-separated list of mpc-state-changes/ },
  { name: 'bad enter_sound', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/', body: '{"role":"Agent","from":"1","to":"2","enter_sound":"beep:3"}', status: 400, error: /enter_sound: must be beep:1, beep:2, none or an absolute http or https URL/ },
  { name: 'bad dial_music', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/', body: '{"role":"Agent","from":"1","to":"2","dial_music":"jazz"}', status: 400, error: /dial_music: must be real, none or an absolute http or https URL/ },
  { name: 'a NUL character in a list filter', method: 'GET', path: () => 'Recording/?mpc_name=a%00b', status: 400, error: /invalid query: mpc_name: may not contain a NUL character/ },
  { name: 'a NUL character in a body parameter', method: 'POST', path: () => 'MultiPartyCall/name_bad/Participant/', body: '{"role":"Agent","from":"1\\u00002","to":"2"}', status: 400, error: /invalid parameter: from: may not contain a NUL character/ },
  { name: 'a NUL character in a friendly name', method: 'POST', path: () => 'MultiPartyCall/name_a%00b/Participant/', body: '{"role":"Agent","from":"1","to":"2"}', status: 400, error: /may not contain a NUL character/ },
  { name: 'a storage duration beyond any date', method: 'GET', path: () => 'Recording/?recording_storage_duration__gt=1000000000', status: 400, error: /recording_storage_duration__gt/ },
  { name: 'a termination cause code beyond any code', method: 'GET', path: () => 'MultiPartyCall/?termination_cause_code=2147483648', status: 400, error: /termination_cause_code/ },
  { name: 'bad list limit', method: 'GET', path: () => 'Recording/?limit=50', status: 400, error: /limit/ },
  { name: 'unknown recording', method: 'GET', path: () => 'Recording/00000000-0000-4000-8000-000000000000/', status: 404, error: /recording 00000000-0000-4000-8000-000000000000 not found/ },
  // Ids that are no UUIDs name nothing: 404, as for any unknown id (Plivo's own documented example id is no UUID).
  { name: 'a recording id that is no UUID', method: 'GET', path: () => 'Recording/c2186400-1c8c-11e4-a664-0026b945b52x/', status: 404, error: /recording c2186400-1c8c-11e4-a664-0026b945b52x not found/ },
  { name: 'deleting a recording id that is no UUID', method: 'DELETE', path: () => 'Recording/abc/', body: '{}', status: 404, error: /recording abc not found/ },
  { name: 'the file of a recording id that is no UUID', method: 'GET', path: () => 'Recording/a-b.mp3', status: 404, error: /recording a-b\.mp3 not found/ },
  { name: 'a uuid_ MPC id that is no UUID', method: 'POST', path: () => 'MultiPartyCall/uuid_abc/Record/', body: '{}', status: 400, error: /uuid_<mpc_uuid> takes the MPC's UUID/ },
  { name: 'a recordings filter by an mpc_uuid that is no UUID', method: 'GET', path: () => 'Recording/?mpc_uuid=abc', status: 400, error: /mpc_uuid: is not a UUID/ },
  { name: 'a time filter that names no moment', method: 'GET', path: () => 'Recording/?add_time__gt=2021-02-29%2010:00', status: 400, error: /add_time__gt: is not a real date and time/ },
  { name: 'an add_time range over 30 days', method: 'GET', path: () => 'Recording/?add_time__gte=2026-01-01%2000:00&add_time__lt=2026-02-01%2000:00', status: 400, error: /the add_time range may span at most 30 days/ },
  { name: 'unsupported method', method: 'PUT', path: () => 'MultiPartyCall/name_bad/Record/', body: '{}', status: 405, error: /method PUT not allowed/ },
  { name: 'unknown path', method: 'GET', path: () => 'Nothing/Here/', status: 404, error: /no resource at/ },
];

describe('bad input', () => {
  it.each(cases)('$name → $status in Plivo\'s body, database unchanged', async (bad) => {
    const before = await snapshotDatabase(gateway);
    const auth = bad.auth === undefined ? gateway.auth : bad.auth === '' ? undefined : `Basic ${Buffer.from(`x:${bad.auth}`).toString('base64')}`;
    const headers: Record<string, string> = { 'content-type': bad.contentType ?? 'application/json' };
    if (auth) headers.authorization = auth;
    const response = await fetch(new URL(bad.path(), `${gateway.api}/`), { method: bad.method, headers, body: bad.body });
    expect(response.status).toBe(bad.status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['api_id', 'error']);
    expect(body.api_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error).toMatch(bad.error);
    expect(await snapshotDatabase(gateway)).toEqual(before);
  });

  it.each([
    { name: 'an unknown method', request: 'FOO /health/live HTTP/1.1\r\nHost: x\r\n\r\n', status: 400, error: 'the request is not valid HTTP/1.1' },
    { name: 'no HTTP at all', request: 'hello\r\n\r\n', status: 400, error: 'the request is not valid HTTP/1.1' },
    { name: 'headers over 16 KiB', request: `GET /health/live HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${'x'.repeat(20_000)}\r\n\r\n`, status: 431, error: 'request headers too large' },
  ])('answers $name, which Node\'s parser refuses, with $status in Plivo\'s body', async ({ request, status, error }) => {
    const socket = connect(Number(new URL(gateway.url).port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += String(chunk)));
    // The gateway closes the connection once it has answered, unread headers or not (a reset, then).
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('close', resolve).write(request));
    const [head, body] = answer.split('\r\n\r\n');
    expect(head!.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${STATUS_CODES[status]}`);
    expect(head).toMatch(/^content-type: application\/json/im);
    expect(JSON.parse(body!)).toEqual({ api_id: expect.stringMatching(/^[0-9a-f-]{36}$/), error });
  });

  it('still serves after all of them', async () => {
    const response = await fetch(`${gateway.api}/MultiPartyCall/name_bad`, { headers: { authorization: gateway.auth } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { recording: string }).recording).toBe('recording');
  });
});
