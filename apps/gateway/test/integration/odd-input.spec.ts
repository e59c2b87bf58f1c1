import { operations } from '@mpc/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_ID, startTestGateway, type TestGateway } from '../support/gateway.js';

// Every operation of the contract, with odd values in each path parameter, each query parameter
// and the body: whatever they do, none may answer a 5xx, and every error is in Plivo's body.

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
  const json = (body: unknown) => ({ method: 'POST', headers: { authorization: gateway.auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  // A live MPC with a participant and a recording, so that some requests reach real rows.
  await fetch(`${gateway.api}/MultiPartyCall/name_live/Participant/`, json({ role: 'Agent', from: '+1', to: '+2' }));
  await fetch(`${gateway.api}/MultiPartyCall/name_live/Record/`, json({}));
});
afterAll(() => gateway?.stop());

const PATH_VALUES = [
  'abc', 'name_', 'uuid_', 'name_live', 'uuid_00000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-000000000000',
  '%00', '%E2%82%AC', 'x'.repeat(300), '-1', '0', '99999999999999999999', '1,2,3', 'all', 'a%2Fb', '%20', 'true',
];
const QUERY_VALUES = ['', 'abc', '-1', '0', '1e309', '99999999999999999999', '2020-13-45 99:99', '2021-02-29 10:00', '%00', 'x'.repeat(3000), '[]'];
const BODIES: [string, string][] = [
  ['{}', 'application/json'],
  ['[]', 'application/json'],
  ['null', 'application/json'],
  ['{"file_format":null,"mute":"maybe","max_duration":"1e400"}', 'application/json'],
  [`{"role":"Agent","from":"${'x'.repeat(5000)}","to":"2"}`, 'application/json'],
  ['{"recording_callback_url":"http://[::1]:99999/"}', 'application/json'],
  ['{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}', 'application/json'],
  ['a[b]=1&a[c]=2&mute=maybe', 'application/x-www-form-urlencoded'],
  ['%%%', 'application/x-www-form-urlencoded'],
  ['hello', 'text/plain'],
];

/** The path of an operation, each parameter filled with a value that exists unless overridden. */
function pathOf(template: string, overrides: Record<string, string> = {}): string {
  const defaults: Record<string, string> = {
    auth_id: AUTH_ID,
    mpc_id: 'name_live',
    member_id: '1',
    recording_id: '00000000-0000-4000-8000-000000000000',
    format: 'mp3',
  };
  return template.replace(/\{(\w+)\}/g, (_, name: string) => overrides[name] ?? defaults[name] ?? '1');
}

function isPlivoError(text: string): boolean {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    return Object.keys(body).sort().join() === 'api_id,error' && typeof body.api_id === 'string' && typeof body.error === 'string' && body.error !== '';
  } catch {
    return false;
  }
}

describe('odd input on every operation', () => {
  it.each(Object.keys(operations))('%s answers no 5xx, and its errors in Plivo\'s body', async (operationId) => {
    const operation = operations[operationId as keyof typeof operations] as { method: string; path: string; query?: { shape: object } };
    const method = operation.method.toUpperCase();
    const requests: { path: string; body?: [string, string] }[] = [];
    for (const name of (operation.path.match(/\{(\w+)\}/g) ?? []).map((param) => param.slice(1, -1)).filter((name) => name !== 'auth_id')) {
      for (const value of PATH_VALUES) requests.push({ path: pathOf(operation.path, { [name]: value }) });
    }
    for (const key of Object.keys(operation.query?.shape ?? {})) {
      for (const value of QUERY_VALUES) requests.push({ path: `${pathOf(operation.path)}?${key}=${encodeURIComponent(value)}` });
    }
    if (method !== 'GET') for (const body of BODIES) requests.push({ path: pathOf(operation.path), body });

    const wrong: string[] = [];
    for (const { path, body } of requests) {
      const [text, type] = body ?? ['{}', 'application/json'];
      const response = await fetch(`${gateway.url}${path}`, {
        method,
        headers: { authorization: gateway.auth, 'content-type': type },
        body: method === 'GET' ? undefined : text,
      });
      const answer = await response.text();
      const where = `${method} ${path.slice(0, 100)} ${text.slice(0, 40)} → ${response.status} ${answer.slice(0, 100)}`;
      if (response.status >= 500) wrong.push(where);
      else if (response.status >= 400 && !isPlivoError(answer)) wrong.push(`not Plivo's error body: ${where}`);
    }
    expect(wrong).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
