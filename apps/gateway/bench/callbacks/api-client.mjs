// A small client for the gateway's MPC API over keep-alive connections (node:http, cheaper and
// easier to time than fetch). Each call returns the status, the parsed body and two bench-clock
// timestamps: when the request was sent and when the whole answer had come back.
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { BENCH_ACCOUNT, BENCH_AUTH, benchMpcPath as mpcPath } from '../lib/gateway.mjs';
import { mapLimit } from '../lib/pool.mjs';

const { authId } = BENCH_ACCOUNT;
const REQUEST_TIMEOUT_MS = 30_000;

export const callbacksPath = (recordingId) => `/v1/Account/${authId}/Recording/${recordingId}/Callback/`;

export class ApiClient {
  #agent;
  #base;

  /** @param {string} base e.g. http://127.0.0.1:1234 */
  constructor(base, { maxSockets = 32 } = {}) {
    const url = new URL(base);
    if (url.hostname !== '127.0.0.1') throw new Error(`the bench only talks to 127.0.0.1, not ${url.hostname}`);
    this.#base = url;
    this.#agent = new Agent({ keepAlive: true, maxSockets });
  }

  /**
   * @returns {Promise<{ status: number, body: any, text: string, sentAt: number, returnedAt: number }>}
   */
  call(method, path, body) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { authorization: BENCH_AUTH, accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const sentAt = performance.now();
      const req = httpRequest(
        { host: this.#base.hostname, port: this.#base.port, method, path, headers, agent: this.#agent, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => {
            const returnedAt = performance.now();
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, text, sentAt, returnedAt });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like call(), but throws a readable error unless the status is `expected`. */
  async expect(method, path, body, expected) {
    const result = await this.call(method, path, body);
    if (result.status !== expected) {
      throw new Error(`${method} ${path} answered ${result.status} (expected ${expected}): ${result.text.slice(0, 300)}`);
    }
    return result;
  }

  close() {
    this.#agent.destroy();
  }
}


/**
 * Creates `count` active MPCs (one Agent with stay_alone) and starts a WAV recording on each with
 * the given callback URL; `limit` calls in flight. Returns [{ name, recordingId }].
 */
export async function createRecordedMpcs(api, { prefix, count, callbackUrl, limit = 8 }) {
  const names = Array.from({ length: count }, (_, i) => `${prefix}_${i}`);
  return mapLimit(names, limit, async (name, i) => {
    await api.expect('POST', `${mpcPath(name)}/Participant/`, { role: 'Agent', from: '1', to: String(2 + i), stay_alone: true }, 201);
    const started = await api.expect(
      'POST',
      `${mpcPath(name)}/Record/`,
      { file_format: 'wav', recording_callback_url: callbackUrl, recording_callback_method: 'POST' },
      202,
    );
    const recordingId = started.body?.recording_id;
    if (typeof recordingId !== 'string') throw new Error(`POST Record answered without recording_id: ${started.text}`);
    return { name, recordingId };
  });
}
