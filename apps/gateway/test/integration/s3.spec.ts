import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3RecordingStorage } from '../../dist/storage/s3-recording-storage.js';
import { apiOf, okApiOf } from '../support/api.js';
import { canDecodeMp3, decodeRecording, toneProfile, type DecodedAudio } from '../support/audio.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { AUTH_ID, AUTH_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';
import { HangingRelay } from '../support/hanging-relay.js';
import { startTestS3, type TestS3 } from '../support/s3.js';
import { ToneStream } from '../support/stream-sender.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(() => s3?.stop());

/** Streams two participants' tones into the MPC and starts recording it; answers the recording and what stops it. */
async function startTones(gateway: TestGateway, mpc: string, format: 'mp3' | 'wav') {
  const api = async (method: string, path: string, body?: unknown) => {
    const answer = await apiOf(() => gateway)(method, path, body);
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  const stream = async (role: string, framing: 'plivo-mulaw' | 'twilio', frequency: number) => {
    const added = await api('POST', `MultiPartyCall/name_${mpc}/Participant/`, { role, from: '+14155550100', to: '+14155550101', stay_alone: true });
    const tone = new ToneStream({ url: added.calls[0].stream_url, framing, frequency });
    await tone.start();
    return tone;
  };
  const streams = [await stream('Agent', 'plivo-mulaw', 440), await stream('Customer', 'twilio', 660)];
  await sleep(200);
  const started = await api('POST', `MultiPartyCall/name_${mpc}/Record/`, { file_format: format });
  return {
    id: started.recording_id as string,
    url: started.recording_url as string,
    api,
    stop: () => api('DELETE', `MultiPartyCall/name_${mpc}/Record/`, {}),
    hangup: () => Promise.all(streams.map((tone) => tone.hangup())),
  };
}

/** Records two participants' tones for `ms` and answers the recording's id and URL once it is stopped. */
async function recordTones(gateway: TestGateway, mpc: string, format: 'mp3' | 'wav', ms: number) {
  const { id, url, api, stop, hangup } = await startTones(gateway, mpc, format);
  await sleep(ms);
  const stoppedAt = performance.now();
  await stop();
  const response = await fileOf(url);
  await hangup();
  return { id, url, response, api, stoppedAt };
}

/** The file's response once the recording is complete (within `attempts` tenths of a second). */
async function fileOf(url: string, attempts = 50): Promise<Response> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const response = await fetch(url);
    if (response.status === 200) return response;
    await response.arrayBuffer();
    await sleep(100);
  }
  throw new Error(`no file at ${url}`);
}

/** Both tones all through the file, away from its edges, and no other. */
function expectBothTones(audio: DecodedAudio) {
  for (const frequency of [440, 660]) {
    const inside = toneProfile(audio, frequency).slice(5, -5);
    expect(inside.length).toBeGreaterThan(20);
    expect(Math.min(...inside), `${frequency} Hz`).toBeGreaterThan(0.12);
  }
  expect(Math.max(...toneProfile(audio, 880)), '880 Hz').toBeLessThan(0.05);
}

describe('recordings on S3 (STORAGE=s3)', () => {
  let gateway: TestGateway;
  let prefix: string;
  beforeAll(async () => {
    prefix = `${s3.prefix}/gateway`;
    gateway = await startTestGateway({ STORAGE: 's3', S3_BUCKET: s3.bucket, S3_ENDPOINT: s3.endpoint, S3_PREFIX: prefix, S3_FORCE_PATH_STYLE: 'true' });
  });
  afterAll(() => gateway?.stop());

  it.each(canDecodeMp3 ? (['mp3', 'wav'] as const) : (['wav'] as const))(
    'records %s into the bucket, serves it whole and in ranges, and deletes it with the recording',
    async (format) => {
      const { id, url, response, api } = await recordTones(gateway, `s3_${format}`, format, 1500);
      const whole = Buffer.from(await response.arrayBuffer());
      expect(response.headers.get('content-type')).toBe(format === 'mp3' ? 'audio/mpeg' : 'audio/wav');
      expect(response.headers.get('content-length')).toBe(String(whole.length));
      expect(response.headers.get('accept-ranges')).toBe('bytes');
      const audio = decodeRecording(whole, format);
      expect(Math.abs(audio.durationMs - 1500)).toBeLessThan(250);
      expectBothTones(audio);

      const ranged = await fetch(url, { headers: { range: 'bytes=100-1099' } });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get('content-range')).toBe(`bytes 100-1099/${whole.length}`);
      expect(ranged.headers.get('content-length')).toBe('1000');
      expect(Buffer.from(await ranged.arrayBuffer()).equals(whole.subarray(100, 1100))).toBe(true);
      const tail = await fetch(url, { headers: { range: 'bytes=-10' } });
      expect(tail.status).toBe(206);
      expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(-10))).toBe(true);
      expect((await fetch(url, { headers: { range: `bytes=${whole.length}-` } })).status).toBe(416);

      const object = { Bucket: s3.bucket, Key: `${prefix}/${AUTH_ID}/${id}.${format}` };
      expect((await s3.client.send(new HeadObjectCommand(object))).ContentLength).toBe(whole.length);
      expect(existsSync(join(gateway.dataDir, 'recordings'))).toBe(false);

      await api('DELETE', `Recording/${id}/`);
      await expect(s3.client.send(new HeadObjectCommand(object))).rejects.toMatchObject({ name: 'NotFound' });
      expect((await fetch(url)).status).toBe(404);
    },
  );
});

describe('a recording of many parts', () => {
  let gateway: TestGateway;
  const partsSentAt: number[] = [];
  beforeAll(async () => {
    // s3rver takes parts smaller than AWS's 5 MiB: 4 KiB parts make two seconds of WAV eight parts.
    const dataDir = mkdtempSync(join(tmpdir(), 'mpc-gw-'));
    const storage = new S3RecordingStorage({ bucket: s3.bucket, endpoint: s3.endpoint, region: 'us-east-1', prefix: `${s3.prefix}/parts`, forcePathStyle: true, partSizeBytes: 4096, spoolDir: join(dataDir, 'spool') });
    storage.client.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'UploadPartCommand') partsSentAt.push(performance.now());
        return next(args);
      },
      { step: 'initialize', name: 'notePartUploads' },
    );
    gateway = await startTestGateway({}, dataDir, { storage });
  });
  afterAll(() => gateway?.stop());

  it('is uploaded while it runs and completed with its header in the first part', async () => {
    const { id, response, stoppedAt } = await recordTones(gateway, 's3_parts', 'wav', 2000);
    const whole = Buffer.from(await response.arrayBuffer());
    expect(whole.length).toBeGreaterThan(4 * 4096);
    expect(partsSentAt.filter((at) => at < stoppedAt).length).toBeGreaterThan(2);
    // The WAV decoder checks the header's sizes against the file: they were written at the stop.
    expectBothTones(decodeRecording(whole, 'wav'));
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${s3.prefix}/parts/${AUTH_ID}/${id}.wav` }));
    expect(head.ContentLength).toBe(whole.length);
  });
});

describe('a bucket out of reach for longer than the retries of an upload', () => {
  let gateway: TestGateway;
  let down = false;
  const sent: string[] = [];
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mpc-gw-'));
    const storage = new S3RecordingStorage({ bucket: s3.bucket, endpoint: s3.endpoint, region: 'us-east-1', prefix: `${s3.prefix}/outage`, forcePathStyle: true, partSizeBytes: 4096, spoolDir: join(dataDir, 'spool') });
    storage.client.middlewareStack.add(
      (next, context) => (args) => {
        if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
        sent.push(context.commandName!);
        return next(args);
      },
      { step: 'initialize', name: 'bucketOutOfReach' },
    );
    gateway = await startTestGateway({}, dataDir, { storage });
  });
  afterAll(() => gateway?.stop());

  it('costs no audio: the recording goes on into the spool, and completes whole once the bucket takes its file', { timeout: 60_000 }, async () => {
    const { id, url, api, stop, hangup } = await startTones(gateway, 's3_outage', 'wav');
    await sleep(1500);
    expect(sent).toContain('UploadPartCommand');
    down = true;
    // Parts fail for good after about 8 s of retries; the stop comes while they still retry, its file after them.
    await sleep(3500);
    await stop();
    // The file is finished in the spool once the parts' retries are spent, and waits there.
    await expect.poll(() => readdirSync(join(gateway.dataDir, 'spool', AUTH_ID)), { timeout: 20_000, interval: 250 }).toEqual([`${id}.wav`]);
    await sleep(1000);
    const waiting = await api('GET', `Recording/${id}/`);
    expect(waiting.recording_status).not.toBe('failed');
    // No file yet: the download answers as for one still being finished, and a delete waits for the file.
    expect((await fetch(url)).status).toBe(404);
    expect(await apiOf(() => gateway)('DELETE', `Recording/${id}/`)).toMatchObject({ status: 503, body: { error: 'the recording storage cannot be reached now; try again shortly' } });

    down = false;
    const response = await fileOf(url, 100);
    await hangup();
    const audio = decodeRecording(Buffer.from(await response.arrayBuffer()), 'wav');
    expect(Math.abs(audio.durationMs - 5000)).toBeLessThan(300);
    expectBothTones(audio);
    const recording = await api('GET', `Recording/${id}/`);
    expect(Number(recording.recording_duration_ms)).toBe(Math.round(audio.durationMs));
    expect(readdirSync(join(gateway.dataDir, 'spool', AUTH_ID))).toEqual([]);
    // The upload begun while recording was dropped once the bucket answered again.
    expect(sent).toContain('AbortMultipartUploadCommand');
  });
});

describe('a media shard that dies while the bucket hangs', () => {
  let gateway: TestGateway;
  let relay: HangingRelay;
  const receiver = new CallbackReceiver(AUTH_TOKEN);
  let receiverUrl: string;
  beforeAll(async () => {
    relay = new HangingRelay({ host: '127.0.0.1', port: Number(new URL(s3.endpoint).port) });
    const endpoint = await relay.listen();
    receiverUrl = await receiver.start();
    gateway = await startTestGateway({ STORAGE: 's3', S3_BUCKET: s3.bucket, S3_ENDPOINT: endpoint, S3_PREFIX: `${s3.prefix}/shard`, S3_FORCE_PATH_STYLE: 'true', MEDIA_SHARDS: '2' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await receiver.stop();
    await relay?.close();
  });

  it('leaves its recording stopped at once, its participants hung up, and stores the file and sends Completed once when the bucket answers', { timeout: 90_000 }, async () => {
    const api = okApiOf(() => gateway);
    await api('POST', 'MultiPartyCall/name_shard_hang/Participant/', { role: 'Agent', from: '1', to: '2', stay_alone: true });
    const { calls } = await api('POST', 'MultiPartyCall/name_shard_hang/Participant/', { role: 'Customer', from: '1', to: '3', stay_alone: true });
    const tone = new ToneStream({ url: calls[0].stream_url, framing: 'plivo-mulaw', frequency: 440 });
    await tone.start();
    const started = await api('POST', 'MultiPartyCall/name_shard_hang/Record/', { file_format: 'wav', recording_callback_url: `${receiverUrl}/shard` });
    await sleep(2500);
    const metrics = await fetch(`${gateway.url}/health/metrics`).then((response) => response.json());
    const holder = metrics.recorder.shards.find((shard: { recordings: number }) => shard.recordings > 0);
    relay.hanging = true;
    process.kill(holder.pid, 'SIGKILL');

    // Nothing waits for the bucket: the recording stops and its participant hangs up within moments.
    await expect.poll(async () => (await api('GET', `Recording/${started.recording_id}/`)).recording_status, { timeout: 5000 }).toBe('completed');
    await expect
      .poll(async () => (await api('GET', 'MultiPartyCall/name_shard_hang/Participant/')).objects.filter((participant: { exit_cause: string | null }) => participant.exit_cause).length, { timeout: 5000 })
      .toBe(1);
    tone.stop();
    expect((await fetch(started.recording_url)).status).toBe(404);

    await sleep(2000);
    relay.hanging = false;
    const response = await fileOf(started.recording_url, 600);
    const audio = decodeRecording(Buffer.from(await response.arrayBuffer()), 'wav');
    expect(audio.durationMs).toBeGreaterThan(1400);
    expect(Math.min(...toneProfile(audio, 440).slice(5, -5))).toBeGreaterThan(0.12);
    await sleep(1000);
    const callbacks = await receiver.waitFor(2, started.recording_id);
    expect(callbacks.map((callback) => callback.params.EventName)).toEqual(['MPCRecordingInitiated', 'MPCRecordingCompleted']);
    expect(readdirSync(join(gateway.dataDir, 'spool', AUTH_ID))).toEqual([]);
  });
});
