// What the API benches share: MPCs made active for recording, and the requests of one start+stop
// cycle on an MPC, all as the bench account.
import { BENCH_AUTH, benchMpcPath as mpcPath } from './gateway.mjs';

const JSON_HEADERS = { authorization: BENCH_AUTH, 'content-type': 'application/json' };

/** Sends `body` as JSON and answers the parsed reply; throws unless the status is `expected`. */
export async function expectStatus(base, method, path, body, expected) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: JSON_HEADERS,
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`${method} ${path} answered ${response.status} (expected ${expected}): ${text}`);
  }
  return text ? JSON.parse(text) : undefined;
}

/** Makes each named MPC active, with an Agent and a Customer, so its recording can start. */
export async function createActiveMpcs(base, names) {
  for (const [i, name] of names.entries()) {
    for (const [role, from, to] of [
      ['Agent', '+14155550100', `+1415556${String(i).padStart(4, '0')}`],
      ['Customer', '+14155550200', `+1415557${String(i).padStart(4, '0')}`],
    ]) {
      await expectStatus(base, 'POST', `${mpcPath(name)}/Participant/`, { role, from, to }, 201);
    }
  }
}

/** One cycle on the MPC `name`, as autocannon requests: start its recording with `startBody` (JSON text), then stop it. */
export const cycleRequests = (name, startBody) => [
  { method: 'POST', path: `${mpcPath(name)}/Record/`, headers: JSON_HEADERS, body: startBody },
  { method: 'DELETE', path: `${mpcPath(name)}/Record/`, headers: JSON_HEADERS, body: '{}' },
];
