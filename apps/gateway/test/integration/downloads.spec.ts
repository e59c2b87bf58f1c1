import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsRecordingStorage, storageWith, type RecordingStorage } from '../../dist/storage/recording-storage.js';
import { okApiOf } from '../support/api.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const BIG = 16 * 1024 * 1024;

/** Files served as 16 MiB of silence: more than sockets buffer, so a client that leaves mid-way leaves before the end. */
function bigFiles(root: string): RecordingStorage {
  const real = new FsRecordingStorage(root);
  return storageWith(real, {
    get: async (key) => {
      if (!(await real.get(key))) return undefined;
      return {
        size: BIG,
        read: () =>
          Readable.from(
            (function* () {
              for (let sent = 0; sent < BIG; sent += 65536) yield Buffer.alloc(65536);
            })(),
          ),
      };
    },
  });
}

let gateway: TestGateway;
const logged: { level: number; msg: string; aborted?: boolean; path?: string }[] = [];
const api = okApiOf(() => gateway);

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mpc-downloads-'));
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  // Without media shards, the recorder writes through this storage too.
  gateway = await startTestGateway({ MEDIA_SHARDS: '0' }, dataDir, { logger, storage: bigFiles(join(dataDir, 'recordings')) });
});
afterAll(() => gateway?.stop());

describe('recording downloads', () => {
  it('log a download the client leaves half-way as its request, aborted, and no error', async () => {
    await api('POST', 'MultiPartyCall/name_left_download/Participant/', { role: 'Agent', from: '1', to: '2', stay_alone: true });
    const started = await api('POST', 'MultiPartyCall/name_left_download/Record/', { file_format: 'wav' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await api('DELETE', 'MultiPartyCall/name_left_download/Record/', {});
    await expect.poll(async () => (await api('GET', `Recording/${started.recording_id}/`)).sample_rate, { timeout: 5000 }).not.toBeNull();

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
});
