// The gateway API as the media bench uses it: MPCs with streaming participants, recordings and
// metrics.
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_ACCOUNT, BENCH_AUTH, benchMpcPath as mpcPath } from '../lib/gateway.mjs';

const { authId } = BENCH_ACCOUNT;
const HEADERS = { authorization: BENCH_AUTH, 'content-type': 'application/json' };
const ROLES = ['Agent', 'Customer', 'Customer', 'Customer'];

export function gatewayApi(baseUrl) {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(baseUrl)) throw new Error(`refusing a gateway not on 127.0.0.1: ${baseUrl}`);

  /** fetch, retrying a GET once when the connection fails (a keep-alive socket the server just closed). */
  async function send(url, init) {
    try {
      return await fetch(url, init);
    } catch (error) {
      if ((init.method ?? 'GET') !== 'GET' || init.signal?.aborted) throw error;
      return fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
    }
  }

  async function call(method, path, body, expected) {
    const response = await send(`${baseUrl}${path}`, {
      method,
      headers: HEADERS,
      body: body === undefined ? undefined : JSON.stringify(body),
      // Generous: an overloaded gateway answers slowly, and that is a figure, not a bench error.
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (response.status !== expected) throw new Error(`${method} ${path} answered ${response.status} (expected ${expected}): ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  }

  return {
    /** Adds participant `index` (0..3) to MPC `name`; resolves with { callUuid, url }. */
    async addParticipant(name, index) {
      const answer = await call('POST', `${mpcPath(name)}/Participant/`, {
        role: ROLES[index % ROLES.length],
        from: `+1415555${String(index).padStart(4, '0')}`,
        to: '+14155550199',
        stay_alone: true,
      }, 201);
      const [added] = answer?.calls ?? [];
      if (!added?.call_uuid || !added?.stream_url) throw new Error(`add participant answered without call_uuid/stream_url: ${JSON.stringify(answer)}`);
      return { callUuid: added.call_uuid, url: added.stream_url };
    },
    async startRecording(name, fileFormat = 'mp3') {
      const answer = await call('POST', `${mpcPath(name)}/Record/`, { file_format: fileFormat }, 202);
      if (!answer?.recording_id || !answer?.recording_url) throw new Error(`start recording answered without recording_id/recording_url: ${JSON.stringify(answer)}`);
      if (!answer.recording_url.startsWith(`${baseUrl}/`)) throw new Error(`recording_url ${answer.recording_url} is not on ${baseUrl}`);
      return { recordingId: answer.recording_id, url: answer.recording_url };
    },
    stopRecording: (name) => call('DELETE', `${mpcPath(name)}/Record/`, {}, 204),
    recording: (recordingId) => call('GET', `/v1/Account/${authId}/Recording/${recordingId}/`, undefined, 200),
    async metrics({ resetTickLag = false } = {}) {
      return call('GET', `/health/metrics${resetTickLag ? '?reset=tick_lag' : ''}`, undefined, 200);
    },
    /** Polls the recording file every `everyMs` until it answers 200; resolves with { ms, bytes, polls }. */
    async waitForFile(url, { everyMs = 10, timeoutMs = 15_000, since = performance.now() } = {}) {
      let polls = 0;
      while (performance.now() - since < timeoutMs) {
        polls++;
        const response = await send(url, { method: 'GET', signal: AbortSignal.timeout(5000) });
        if (response.status === 200) {
          const bytes = (await response.arrayBuffer()).byteLength;
          return { ms: performance.now() - since, bytes, polls };
        }
        await response.arrayBuffer();
        if (response.status !== 404) throw new Error(`GET ${url} answered ${response.status}`);
        await sleep(everyMs);
      }
      throw new Error(`GET ${url} did not answer 200 within ${timeoutMs / 1000} s of the stop`);
    },
    /** Polls the metrics until `done(recorder)` holds; resolves with the last metrics. */
    async waitForRecorder(done, what, timeoutMs = 60_000) {
      const deadline = performance.now() + timeoutMs;
      let last;
      while (performance.now() < deadline) {
        last = await call('GET', '/health/metrics', undefined, 200);
        if (done(last.recorder)) return last;
        await sleep(200);
      }
      throw new Error(`the gateway did not reach ${what} within ${timeoutMs / 1000} s (recorder: ${JSON.stringify(last?.recorder)})`);
    },
  };
}
