import { operations, type StartRecordingResponse } from '@mpc/contracts';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { createMpcClient } from './client.js';
import { MpcApiError } from './errors.js';

interface RecordedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

interface CannedAnswer {
  status: number;
  contentType?: string;
  body?: string | Buffer;
}

const json = (status: number, body: unknown): CannedAnswer => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

const requests: RecordedRequest[] = [];
let answer: CannedAnswer = { status: 204 };
let server: Server;
let baseUrl: string;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    requests.push({
      method: request.method!,
      url: request.url!,
      authorization: request.headers.authorization,
      contentType: request.headers['content-type'],
      body: await readBody(request),
    });
    response.writeHead(answer.status, answer.contentType ? { 'Content-Type': answer.contentType } : {});
    response.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  requests.length = 0;
});

const client = () => createMpcClient({ baseUrl, authId: 'MA123', authToken: 's3cret' });
const lastRequest = () => requests.at(-1)!;

const started: StartRecordingResponse = {
  api_id: 'c7b1e0a4',
  message: 'MPC: x record started',
  recording_id: 'e06ac332-45dc-11eb-94fe-06dd7f581a50',
  recording_url: 'https://mpc.example.com/v1/Account/MA123/Recording/e06ac332-45dc-11eb-94fe-06dd7f581a50.mp3',
};

it('has one method per operation of the contract table', () => {
  expect(Object.keys(client()).sort()).toEqual(Object.keys(operations).sort());
});

describe('a JSON operation', () => {
  it('sends method, path with auth_id filled in, Basic auth and JSON body, and resolves to the parsed answer', async () => {
    answer = json(202, started);
    const result = await client().startMpcRecording({
      path: { mpc_id: 'name_x' },
      body: { file_format: 'wav', recording_callback_url: 'https://receiver.example.com/cb' },
    });

    expect(result).toEqual(started);
    expect(lastRequest()).toEqual({
      method: 'POST',
      url: '/v1/Account/MA123/MultiPartyCall/name_x/Record/',
      authorization: `Basic ${Buffer.from('MA123:s3cret').toString('base64')}`,
      contentType: 'application/json',
      body: JSON.stringify({ file_format: 'wav', recording_callback_url: 'https://receiver.example.com/cb' }),
    });
  });

  it('sends the query string of a list', async () => {
    const page = { api_id: 'a', meta: { count: 0, limit: 2, next: null, offset: 0, previous: null }, objects: [] };
    answer = json(200, page);

    expect(await client().listMpcs({ query: { limit: 2, status: 'active' } })).toEqual(page);
    expect(lastRequest()).toMatchObject({ method: 'GET', url: '/v1/Account/MA123/MultiPartyCall/?limit=2&status=active', body: '' });
  });

  it('can be called without arguments when the operation needs none', async () => {
    answer = json(200, { api_id: 'a', meta: {}, objects: [] });
    await client().listRecordings();
    expect(lastRequest().url).toBe('/v1/Account/MA123/Recording/');
  });

  it('encodes path parameters', async () => {
    answer = json(202, { api_id: 'a', mute: 'MPC: x member 7 muted' });
    await client().updateParticipant({ path: { mpc_id: 'name_sales standup', member_id: 'all' }, body: { mute: true } });
    expect(lastRequest().url).toBe('/v1/Account/MA123/MultiPartyCall/name_sales%20standup/Participant/all/');
  });
});

describe('an operation answering 204', () => {
  it('resolves to undefined', async () => {
    answer = { status: 204 };
    expect(await client().stopMpcRecording({ path: { mpc_id: 'name_x' } })).toBeUndefined();
    expect(lastRequest()).toMatchObject({ method: 'DELETE', url: '/v1/Account/MA123/MultiPartyCall/name_x/Record/', contentType: undefined, body: '' });
  });

  it('sends the body when the operation takes one', async () => {
    answer = { status: 204 };
    await client().stopParticipantRecording({ path: { mpc_id: 'uuid_1', member_id: '7' }, body: { record_track_type: 'participant' } });
    expect(lastRequest()).toMatchObject({
      method: 'DELETE',
      url: '/v1/Account/MA123/MultiPartyCall/uuid_1/Participant/7/Record/',
      body: '{"record_track_type":"participant"}',
    });
  });
});

describe('getRecordingFile', () => {
  it('resolves to the unread Response', async () => {
    const audio = Buffer.from([0x49, 0x44, 0x33, 0x04, 0x00, 0xff]);
    answer = { status: 200, contentType: 'audio/mpeg', body: audio };

    const response = await client().getRecordingFile({ path: { recording_id: 'e06ac332-45dc-11eb-94fe-06dd7f581a50', format: 'mp3' } });

    expect(lastRequest().url).toBe('/v1/Account/MA123/Recording/e06ac332-45dc-11eb-94fe-06dd7f581a50.mp3');
    expect(response.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(audio);
  });
});

describe('a non-2xx answer', () => {
  it("throws MpcApiError with the status, api_id and Plivo's error text", async () => {
    answer = json(404, { api_id: 'a', error: 'not found' });
    const failure = await client().getMpc({ path: { mpc_id: 'name_gone' } }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(MpcApiError);
    expect(failure).toMatchObject({ status: 404, apiId: 'a', message: 'not found' });
  });

  it('carries the raw text when the body is not JSON', async () => {
    answer = { status: 502, contentType: 'text/plain', body: 'upstream went away' };
    const failure = await client().getMpc({ path: { mpc_id: 'name_x' } }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(MpcApiError);
    expect(failure).toMatchObject({ status: 502, apiId: undefined, message: 'upstream went away' });
  });

  it('throws for an error without a body too', async () => {
    answer = { status: 405 };
    await expect(client().endMpc({ path: { mpc_id: 'name_x' } })).rejects.toMatchObject({ status: 405, message: '405 Method Not Allowed' });
  });
});

it('sends through the fetch it is given', async () => {
  const seen: string[] = [];
  const fetchAndNote = (request: Request) => {
    seen.push(`${request.method} ${new URL(request.url).pathname}`);
    return fetch(request);
  };
  answer = { status: 204 };
  await createMpcClient({ baseUrl: `${baseUrl}/`, authId: 'MA123', authToken: 's3cret', fetch: fetchAndNote }).pauseMpcRecording({
    path: { mpc_id: 'name_x' },
  });
  expect(seen).toEqual(['POST /v1/Account/MA123/MultiPartyCall/name_x/Record/Pause/']);
});

describe('method types', () => {
  const typed = createMpcClient({ baseUrl: 'http://unused', authId: 'MA123', authToken: 's3cret' });

  it('resolve to the documented success body', () => {
    expectTypeOf(typed.startMpcRecording).returns.resolves.toEqualTypeOf<{
      api_id: string;
      message: string;
      recording_id: string;
      recording_url: string;
      recordings?: { recording_id: string; recording_url: string; record_track_type: 'participant' | 'all' | 'both' }[];
    }>();
    expectTypeOf(typed.stopMpcRecording).returns.resolves.toBeUndefined();
    expectTypeOf(typed.getRecordingFile).returns.resolves.toEqualTypeOf<Response>();
  });

  it('take the path parameters other than auth_id', () => {
    expectTypeOf(typed.getParticipant).parameter(0).toHaveProperty('path').toEqualTypeOf<{ mpc_id: string; member_id: string }>();
    // @ts-expect-error auth_id comes from the client
    void (() => typed.getMpc({ path: { mpc_id: 'name_x', auth_id: 'MA999' } }));
    // @ts-expect-error pause takes no body
    void (() => typed.pauseMpcRecording({ path: { mpc_id: 'name_x' }, body: {} }));
    // @ts-expect-error mpc_id is required
    void (() => typed.getMpc());
  });
});
