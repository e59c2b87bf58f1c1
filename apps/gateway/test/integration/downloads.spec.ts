import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsRecordingStorage, storageWith, type RecordingStorage } from '../../dist/storage/recording-storage.js';
import { apiOf, okApiOf } from '../support/api.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const BIG = 16 * 1024 * 1024;

/** How the storage of these tests serves and deletes files: as asked, or failing as a bucket out of reach does. */
const serving = { state: 'well' as 'well' | 'refusing' | 'failing reads' };
const outOfReach = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' });

/** Files served as 16 MiB of silence: more than sockets buffer, so a client that leaves mid-way leaves before the end. */
function bigFiles(root: string): RecordingStorage {
  const real = new FsRecordingStorage(root);
  return storageWith(real, {
    get: async (key) => {
      if (serving.state === 'refusing') throw outOfReach();
      if (!(await real.get(key))) return undefined;
      return {
        size: BIG,
        read: () =>
          serving.state === 'failing reads'
            ? new Readable({ read() { this.destroy(outOfReach()); } })
            : Readable.from(
                (function* () {
                  for (let sent = 0; sent < BIG; sent += 65536) yield Buffer.alloc(65536);
                })(),
              ),
      };
    },
    delete: async (key) => {
      if (serving.state === 'refusing') throw outOfReach();
      await real.delete(key);
    },
  });
}

let gateway: TestGateway;
const logged: { level: number; msg: string; aborted?: boolean; path?: string; reason?: string }[] = [];
const api = okApiOf(() => gateway);
const answerOf = apiOf(() => gateway);

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mpc-downloads-'));
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  // Without media shards, the recorder writes through this storage too.
  gateway = await startTestGateway({ MEDIA_SHARDS: '0', DOWNLOAD_IDLE_TIMEOUT_MS: '1000' }, dataDir, { logger, storage: bigFiles(join(dataDir, 'recordings')) });
});
afterAll(() => gateway?.stop());

/** A short recording of a new MPC, once its file is finished: answers its start's body (`recording_url`). */
async function finishedRecording(mpc: string) {
  await api('POST', `MultiPartyCall/${mpc}/Participant/`, { role: 'Agent', from: '1', to: '2', stay_alone: true });
  const started = await api('POST', `MultiPartyCall/${mpc}/Record/`, { file_format: 'wav' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await api('DELETE', `MultiPartyCall/${mpc}/Record/`, {});
  await expect.poll(async () => (await api('GET', `Recording/${started.recording_id}/`)).sample_rate, { timeout: 5000 }).not.toBeNull();
  return started;
}

describe('recording downloads', () => {
  it('answer 503 with Retry-After, in Plivo\'s body, while the storage cannot serve the file, and log why', async () => {
    const started = await finishedRecording('name_storage_down');
    try {
      for (const state of ['refusing', 'failing reads'] as const) {
        serving.state = state;
        const response = await fetch(started.recording_url);
        expect(response.status, state).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(response.headers.get('content-disposition')).toBeNull();
        expect(await response.json()).toEqual({ api_id: expect.any(String), error: 'the recording storage cannot be reached now; try again shortly' });
      }
    } finally {
      serving.state = 'well';
    }
    const served = await fetch(started.recording_url);
    expect(served.status).toBe(200);
    expect((await served.arrayBuffer()).byteLength).toBe(BIG);
    const refused = logged.filter((line) => line.msg === 'request failed: the recording storage cannot be reached now; try again shortly');
    // The second 503, for the same reason within 10 s, has its `request` line only.
    expect(refused.map((line) => line.reason)).toEqual(['connect ECONNREFUSED 127.0.0.1:9000']);
    // Each `request` line names the error's code.
    expect(logged.filter((line) => line.msg === 'request' && line.status === 503 && line.error === 'storage_unavailable')).toHaveLength(2);
    expect(logged.filter((line) => line.level >= 50)).toEqual([]);
  });

  it('log a download the client leaves half-way as its request, aborted, and no error', async () => {
    const started = await finishedRecording('name_left_download');

    const url = new URL(started.recording_url);
    const firstBytes = await new Promise<number>((resolve, reject) => {
      const download = request(url, (response) => {
        response.once('data', (chunk: Buffer) => {
          download.destroy();
          resolve(chunk.length);
        });
      });
      download.on('error', () => undefined);
      download.end();
      setTimeout(() => reject(new Error('no bytes came')), 5000);
    });
    expect(firstBytes).toBeGreaterThan(0);
    await expect.poll(() => logged.some((line) => line.msg === 'request' && line.path === url.pathname && line.aborted === true)).toBe(true);
    expect(logged.filter((line) => line.level >= 50)).toEqual([]);
  });

  it('cut off a download the client stops taking, once it has taken nothing for DOWNLOAD_IDLE_TIMEOUT_MS', async () => {
    const started = await finishedRecording('name_stalled_download');
    const url = new URL(started.recording_url);
    // One chunk, then nothing more is read: the socket's buffers fill and the gateway's writes stop.
    const download = request(url, (response) => response.once('data', () => response.pause()));
    download.on('error', () => undefined);
    download.end();
    const stalledAt = performance.now();
    try {
      const cutOff = () => logged.some((line) => line.msg === 'request' && line.path === url.pathname && line.aborted === true);
      await expect.poll(cutOff, { timeout: 8000 }).toBe(true);
      expect(performance.now() - stalledAt).toBeGreaterThan(900);
    } finally {
      download.destroy();
    }
    expect(logged.filter((line) => line.level >= 50)).toEqual([]);
  });

  it('a delete the storage cannot make answers 503 and leaves the recording and its file whole, to be deleted later', async () => {
    const started = await finishedRecording('name_delete_storage_down');
    serving.state = 'refusing';
    try {
      const refused = await answerOf('DELETE', `Recording/${started.recording_id}/`);
      expect(refused).toMatchObject({ status: 503, body: { api_id: expect.any(String), error: 'the recording storage cannot be reached now; try again shortly' } });
    } finally {
      serving.state = 'well';
    }
    expect((await api('GET', `Recording/${started.recording_id}/`)).recording_id).toBe(started.recording_id);
    const whole = await fetch(started.recording_url);
    expect(whole.status).toBe(200);
    await whole.body?.cancel();
    expect((await answerOf('DELETE', `Recording/${started.recording_id}/`)).status).toBe(204);
    expect((await answerOf('GET', `Recording/${started.recording_id}/`)).status).toBe(404);
    expect((await fetch(started.recording_url)).status).toBe(404);
  });
});
