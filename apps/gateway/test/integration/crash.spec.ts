import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRecording, toneProfile } from '../support/audio.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { AUTH_ID, AUTH_TOKEN } from '../support/gateway.js';
import { HangingRelay } from '../support/hanging-relay.js';
import { startTestS3 } from '../support/s3.js';
import { ToneStream } from '../support/stream-sender.js';

const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'mpc-crash-'));
const auth = `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`;
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The gateway as its own process, so it can be killed outright. One an earlier test left running is killed first: it holds the data directory. */
async function startChild({ ownProcessGroup = false, env = {} as Record<string, string>, waitForBanner = true } = {}): Promise<{ child: ChildProcess; url: string }> {
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(running.map((child) => new Promise((resolve) => child.once('exit', resolve).kill('SIGKILL'))));
  const child = spawn(process.execPath, [main], {
    detached: ownProcessGroup,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, ACCOUNTS: `${AUTH_ID}:${AUTH_TOKEN}`, CALLBACK_ALLOW_PRIVATE: 'loopback', LOG_LEVEL: process.env.CRASH_LOG ?? 'warn', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const banner = new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /MPC recording gateway on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${output}`)));
  });
  if (waitForBanner) return { child, url: await banner };
  banner.catch(() => undefined);
  return { child, url: '' };
}

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Calls a child gateway's API as the test account; answers the status and the parsed body (if any). */
function apiOf(url: string) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${url}/v1/Account/${AUTH_ID}/${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** A completed WAV recording and its decoded file, whose length the API reports exactly. */
async function completedWav(url: string, recordingId: string) {
  const api = apiOf(url);
  const { body: recording } = await api('GET', `Recording/${recordingId}/`);
  expect(recording.recording_status).toBe('completed');
  const file = await fetch(`${url}/v1/Account/${AUTH_ID}/Recording/${recordingId}.wav`);
  expect(file.status).toBe(200);
  const audio = decodeRecording(Buffer.from(await file.arrayBuffer()), 'wav');
  expect(audio.durationMs).toBeGreaterThan(1000);
  expect(Math.abs(Number(recording.recording_duration_ms) - audio.durationMs)).toBeLessThan(1);
  return { recording, audio };
}

/** Waits until the recording's file is served: it is stored in the background after a restart. */
async function fileStored(url: string, recordingId: string, withinMs: number): Promise<void> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const file = await fetch(`${url}/v1/Account/${AUTH_ID}/Recording/${recordingId}.wav`);
    await file.arrayBuffer();
    if (file.status === 200) return;
    if (performance.now() > deadline) throw new Error(`the file of ${recordingId} is still not stored (${file.status})`);
    await sleep(250);
  }
}

/** An agent, allowed to stay alone, streaming 440 Hz into the MPC. */
async function streamingAgent(api: ReturnType<typeof apiOf>, mpc: string): Promise<ToneStream> {
  const { body: added } = await api('POST', `MultiPartyCall/name_${mpc}/Participant/`, { role: 'Agent', from: '1', to: '2', stay_alone: true });
  const stream = new ToneStream({ url: added.calls[0].stream_url, framing: 'plivo-mulaw', frequency: 440 });
  await stream.start();
  await sleep(200);
  return stream;
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(process.env.MPC_TEST_DB === 'postgres')('crash recovery', () => {
  it('after SIGKILL and a restart, delivers every callback and finishes the live recording from its stored audio', { timeout: 90_000 }, async () => {
    const receiver = new CallbackReceiver(AUTH_TOKEN);
    const receiverUrl = await receiver.start();
    // The first attempt hangs: the event is in flight when the gateway dies.
    receiver.respond = () => undefined;
    const first = await startChild();
    const api = apiOf(first.url);
    const stream = await streamingAgent(api, 'crash');
    const { body: started } = await api('POST', 'MultiPartyCall/name_crash/Record/', { file_format: 'wav', recording_callback_url: `${receiverUrl}/crash` });
    await receiver.waitFor(1, started.recording_id);
    const { mpc_uuid: mpcUuid } = (await api('GET', 'MultiPartyCall/name_crash/')).body;
    await sleep(1500);

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    stream.stop();
    receiver.respond = (_callback, response) => response.end('ok');

    const second = await startChild();
    const callbacks = await receiver.waitFor(3, started.recording_id, 20000);
    const delivered = callbacks.slice(1);
    expect(delivered.map((callback) => callback.params.EventName)).toEqual(['MPCRecordingInitiated', 'MPCRecordingCompleted']);
    expect(delivered.map((callback) => callback.params.SequenceNumber)).toEqual(['1', '2']);
    expect(callbacks.every((callback) => callback.valid)).toBe(true);
    expect(callbacks[1]!.headers['x-plivo-signature-v3-nonce']).not.toBe(callbacks[0]!.headers['x-plivo-signature-v3-nonce']);

    const { recording, audio } = await completedWav(second.url, started.recording_id);
    // It ended where its audio ends, not when the restart found it.
    expect(Math.abs(Number(recording.recording_end_ms) - Number(recording.recording_start_ms) - audio.durationMs)).toBeLessThan(50);
    const levels = toneProfile(audio, 440);
    expect(levels.slice(5, -5).every((level) => level > 0.12), levels.map((level) => level.toFixed(2)).join(" ")).toBe(true);

    // The crash cut the participant's stream, as its call would have dropped: it hung up, and its MPC ended.
    const restarted = apiOf(second.url);
    expect((await restarted('GET', `MultiPartyCall/uuid_${mpcUuid}/`)).body).toMatchObject({ status: 'Ended', termination_cause_code: 1000 });
    const { objects } = (await restarted('GET', `MultiPartyCall/uuid_${mpcUuid}/Participant/`)).body;
    expect(objects.map((participant: { exit_cause: string }) => participant.exit_cause)).toEqual(['Participant Call Hangup']);
    await receiver.stop();
  });

  it('after SIGKILL, salvages a live recording on S3 from its local spool and stores it in the bucket, at a later start if the bucket is out of reach', { timeout: 120_000 }, async () => {
    const s3 = await startTestS3();
    try {
      const storage = { STORAGE: 's3', S3_BUCKET: s3.bucket, S3_ENDPOINT: s3.endpoint, S3_PREFIX: `${s3.prefix}/crash`, S3_FORCE_PATH_STYLE: 'true' };
      const first = await startChild({ env: storage });
      const api = apiOf(first.url);
      const stream = await streamingAgent(api, 'crash_s3');
      const { body: started } = await api('POST', 'MultiPartyCall/name_crash_s3/Record/', { file_format: 'wav' });
      await sleep(2500); // more than the second a write batch may wait: the spool file holds all but its last second
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      stream.stop();

      // The bucket is out of reach: the start goes on, and the recording waits in the spool.
      const unreachable = await startChild({ env: { ...storage, S3_ENDPOINT: `http://127.0.0.1:${await freePort()}` } });
      const { body: waiting } = await apiOf(unreachable.url)('GET', `Recording/${started.recording_id}/`);
      expect(waiting.recording_status).not.toBe('failed');
      unreachable.child.kill('SIGTERM');
      await new Promise((resolve) => unreachable.child.once('exit', resolve));

      const second = await startChild({ env: storage });
      await fileStored(second.url, started.recording_id, 10_000);
      const { audio } = await completedWav(second.url, started.recording_id);
      expect(audio.durationMs).toBeGreaterThan(1400);
      expect(toneProfile(audio, 440).slice(5, -5).every((level) => level > 0.12)).toBe(true);
      const object = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${s3.prefix}/crash/${AUTH_ID}/${started.recording_id}.wav` }));
      expect(object.ContentLength).toBe(Math.round(44 + audio.durationMs * 16));
      expect(readdirSync(join(dataDir, 'spool'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())).toEqual([]);
      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.once('exit', resolve));
    } finally {
      await s3.stop();
    }
  });

  it('after SIGKILL, opens its API at once though the bucket hangs: the cut-off recording stops where its audio ends, and completes once the bucket answers', { timeout: 120_000 }, async () => {
    const s3 = await startTestS3();
    const relay = new HangingRelay({ host: '127.0.0.1', port: Number(new URL(s3.endpoint).port) });
    const receiver = new CallbackReceiver(AUTH_TOKEN);
    const receiverUrl = await receiver.start();
    try {
      const storage = { STORAGE: 's3', S3_BUCKET: s3.bucket, S3_ENDPOINT: await relay.listen(), S3_PREFIX: `${s3.prefix}/hang`, S3_FORCE_PATH_STYLE: 'true' };
      const first = await startChild({ env: storage });
      const api = apiOf(first.url);
      const stream = await streamingAgent(api, 'crash_s3_hang');
      const { body: started } = await api('POST', 'MultiPartyCall/name_crash_s3_hang/Record/', { file_format: 'wav', recording_callback_url: `${receiverUrl}/hang` });
      await sleep(2500);
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));
      stream.stop();

      relay.hanging = true;
      const restartedAt = performance.now();
      const second = await startChild({ env: storage });
      // A request to the bucket waits 10 s for an answer, twice, before it fails: the API opened without one.
      expect(performance.now() - restartedAt).toBeLessThan(15_000);
      const { body: waiting } = await apiOf(second.url)('GET', `Recording/${started.recording_id}/`);
      expect(waiting.recording_status).toBe('completed');
      expect(Number(waiting.recording_end_ms) - Number(waiting.recording_start_ms)).toBeLessThan(3000);
      expect((await fetch(`${second.url}/v1/Account/${AUTH_ID}/Recording/${started.recording_id}.wav`)).status).toBe(404);

      // The upload tried meanwhile hangs until it fails, and is tried again.
      await sleep(3000);
      relay.hanging = false;
      await fileStored(second.url, started.recording_id, 60_000);
      const { audio } = await completedWav(second.url, started.recording_id);
      expect(toneProfile(audio, 440).slice(5, -5).every((level) => level > 0.12)).toBe(true);
      expect(readdirSync(join(dataDir, 'spool'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())).toEqual([]);
      await receiver.waitFor(2, started.recording_id, 20_000);
      await sleep(1000);
      // Once: a second Completed would come within the second.
      const callbacks = await receiver.waitFor(2, started.recording_id);
      expect(callbacks.map((callback) => callback.params.EventName)).toEqual(['MPCRecordingInitiated', 'MPCRecordingCompleted']);
      expect(callbacks.every((callback) => callback.valid)).toBe(true);
      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.once('exit', resolve));
    } finally {
      await receiver.stop();
      await relay.close();
      await s3.stop();
    }
  });

  it('after SIGKILL, holds requests that come while the restart recovers, so a start makes a new recording rather than answering the one cut off, which fails without counting the downtime', { timeout: 90_000 }, async () => {
    const first = await startChild({ ownProcessGroup: true });
    const api = apiOf(first.url);
    // The agent streams (a call with no stream yet would have its recording carried on); the customer's stream comes after the restart.
    const agent = await streamingAgent(api, 'crash_window');
    const { body: customer } = await api('POST', 'MultiPartyCall/name_crash_window/Participant/', { role: 'Customer', from: '3', to: '4', stay_alone: true });
    const { body: cutOff } = await api('POST', 'MultiPartyCall/name_crash_window/Record/', { file_format: 'wav' });
    await sleep(200); // less than a write batch may wait: nothing of it is written yet
    // The media shards die too, as in a power cut, so they cannot write out what they hold either.
    process.kill(-first.child.pid!, 'SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    agent.stop();
    await sleep(2000);

    // The first request the new process takes, sent as soon as its port accepts connections.
    const port = await freePort();
    await startChild({ env: { PORT: String(port) }, waitForBanner: false });
    const restarted = apiOf(`http://127.0.0.1:${port}`);
    // A stream too: it waits for the recovery as well, rather than being refused.
    const streamUrl = String(customer.calls[0].stream_url).replace(/^ws:\/\/[^/]+/, `ws://127.0.0.1:${port}`);
    const streaming = (async () => {
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
        const stream = new ToneStream({ url: streamUrl, framing: 'plivo-mulaw', frequency: 660 });
        const refused = await stream.opened.then(() => undefined, (error: NodeJS.ErrnoException) => error);
        if (!refused) return stream;
        if (refused.code !== 'ECONNREFUSED') throw refused;
        await sleep(5);
      }
      throw new Error('the restarted gateway never took the stream');
    })();
    let started: { status: number; body: any } | undefined;
    for (const deadline = Date.now() + 20_000; !started && Date.now() < deadline; ) {
      started = await restarted('POST', 'MultiPartyCall/name_crash_window/Record/', { file_format: 'wav' }).catch(() => sleep(5).then(() => undefined));
    }
    const stream = await streaming;
    await stream.start();
    expect(started?.status).toBe(202);
    expect(started!.body.recording_id).not.toBe(cutOff.recording_id);
    const { body: failed } = await restarted('GET', `Recording/${cutOff.recording_id}/`);
    expect(failed.recording_status).toBe('failed');
    expect(Number(failed.recording_duration_ms)).toBeLessThan(1000);
    expect((await restarted('GET', 'MultiPartyCall/name_crash_window/')).body.recording).toBe('recording');
    await sleep(300);
    await stream.hangup();
    // Closed on its stop message, not refused when it started (4404, 4400).
    expect(await stream.closed).toEqual({ code: 1000, reason: 'stream stopped' });
  });

  it('after a SIGKILL between a recording\'s stop and the gateway taking its finished file, completes it from the published file', { timeout: 90_000 }, async () => {
    const first = await startChild();
    const api = apiOf(first.url);
    const stream = await streamingAgent(api, 'published');
    const { body: started } = await api('POST', 'MultiPartyCall/name_published/Record/', { file_format: 'mp3' });
    await sleep(1500);
    expect((await api('DELETE', 'MultiPartyCall/name_published/Record/', {})).status).toBe(204);
    // The stop is committed; the media shard finishes and publishes the file while the gateway is frozen, then it dies.
    first.child.kill('SIGSTOP');
    await sleep(1500);
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    stream.stop();

    const second = await startChild();
    const { body: recording } = await apiOf(second.url)('GET', `Recording/${started.recording_id}/`);
    expect(recording.recording_status).toBe('completed');
    const file = await fetch(`${second.url}/v1/Account/${AUTH_ID}/Recording/${started.recording_id}.mp3`);
    expect(file.status).toBe(200);
    expect(Number(recording.recording_duration_ms)).toBeGreaterThan(1000);
  });

  it.each(['SIGKILL', 'SIGTERM'] as const)(
    'after %s before its call had any stream, carries on the recording asked for on add participant: the stream after the restart is recorded, after the silence since the add',
    { timeout: 90_000 },
    async (signal) => {
      const receiver = new CallbackReceiver(AUTH_TOKEN);
      const receiverUrl = await receiver.start();
      const mpc = `ringing_${signal.toLowerCase()}`;
      const first = await startChild();
      const { body: added } = await apiOf(first.url)('POST', `MultiPartyCall/name_${mpc}/Participant/`, {
        role: 'Agent',
        from: '1',
        to: '2',
        stay_alone: true,
        record: true,
        record_file_format: 'wav',
        recording_callback_url: `${receiverUrl}/${mpc}`,
      });
      const addAnswered = performance.now();
      const [initiated] = await receiver.waitFor(1);
      const recordingId = initiated!.params.RecordingUUID!;
      await sleep(1000);
      first.child.kill(signal);
      await new Promise((resolve) => first.child.once('exit', resolve));

      // The participant was still ringing: its stream comes once the gateway is back.
      const second = await startChild();
      const streamUrl = new URL(added.calls[0].stream_url);
      streamUrl.host = new URL(second.url).host;
      const stream = new ToneStream({ url: streamUrl.href, framing: 'plivo-mulaw', frequency: 440 });
      await stream.start();
      const joined = performance.now();
      await sleep(1500);
      const api = apiOf(second.url);
      const stopping = performance.now();
      expect((await api('DELETE', `MultiPartyCall/name_${mpc}/Record/`, {})).status).toBe(204);
      const stopped = performance.now();

      const callbacks = await receiver.waitFor(2, recordingId, 20000);
      expect(callbacks.map((callback) => [callback.params.EventName, callback.params.SequenceNumber])).toEqual([
        ['MPCRecordingInitiated', '1'],
        ['MPCRecordingCompleted', '2'],
      ]);
      const { audio } = await completedWav(second.url, recordingId);
      await stream.hangup();
      // From the add to the stop, the restart included, as with no restart: silence until the stream joined, then its tone.
      expect(audio.durationMs).toBeGreaterThan(stopping - addAnswered - 20);
      expect(audio.durationMs).toBeLessThan(stopped - addAnswered + 200);
      const toneFrom = audio.durationMs - ((stopping + stopped) / 2 - joined);
      const levels = toneProfile(audio, 440);
      expect(levels.slice(0, Math.floor((toneFrom - 150) / 20)).every((level) => level < 0.05)).toBe(true);
      expect(levels.slice(Math.ceil((toneFrom + 150) / 20), -5).every((level) => level > 0.12), levels.map((level) => level.toFixed(2)).join(' ')).toBe(true);
      await receiver.stop();
    },
  );

  it('after an hour down, carries on a recording whose call has had no stream with only the last minute of its silence: hours of it are not made in one go', { timeout: 90_000 }, async () => {
    const first = await startChild();
    const { body: added } = await apiOf(first.url)('POST', 'MultiPartyCall/name_long_down/Participant/', { role: 'Agent', from: '1', to: '2', stay_alone: true, record: true, record_file_format: 'wav' });
    first.child.kill('SIGTERM');
    await new Promise((resolve) => first.child.once('exit', resolve));
    // The call was made, and the recording started, an hour before the restart.
    const database = new PGlite(join(dataDir, 'pgdata'));
    await database.exec(`
      update mpcs set created_at = created_at - interval '1 hour', started_at = started_at - interval '1 hour' where friendly_name = 'long_down';
      update participants set joined_at = joined_at - interval '1 hour' where call_uuid = '${added.calls[0].call_uuid}';
      update recordings set added_at = added_at - interval '1 hour', started_at = started_at - interval '1 hour', segment_started_at = segment_started_at - interval '1 hour'
        where mpc_uuid = (select mpc_uuid from mpcs where friendly_name = 'long_down');`);
    await database.close();

    const starting = performance.now();
    const second = await startChild();
    const api = apiOf(second.url);
    const [recording] = (await api('GET', 'Recording/?mpc_name=long_down')).body.objects as { recording_id: string }[];
    const streamUrl = new URL(added.calls[0].stream_url);
    streamUrl.host = new URL(second.url).host;
    const stream = new ToneStream({ url: streamUrl.href, framing: 'plivo-mulaw', frequency: 440 });
    await stream.start();
    await sleep(1000);
    expect((await api('DELETE', 'MultiPartyCall/name_long_down/Record/', {})).status).toBe(204);
    await fileStored(second.url, recording!.recording_id, 10_000);
    const { audio } = await completedWav(second.url, recording!.recording_id);
    await stream.hangup();
    expect(audio.durationMs).toBeGreaterThan(60_000 + 1000);
    expect(audio.durationMs).toBeLessThan(60_000 + (performance.now() - starting));
    expect(toneProfile(audio, 440).slice(-40, -5).every((level) => level > 0.12)).toBe(true);
  });

  it('on SIGTERM, takes a stop that comes while it shuts down, of a recording whose call has had no stream, and makes its file at the next start', { timeout: 90_000 }, async () => {
    const receiver = new CallbackReceiver(AUTH_TOKEN);
    const receiverUrl = await receiver.start();
    // A callback left hanging holds the shutdown for its 2 s allowance, while the API still answers.
    receiver.respond = () => undefined;
    const first = await startChild({ env: { LOG_LEVEL: 'info' } });
    let output = '';
    first.child.stdout!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    const api = apiOf(first.url);
    await api('POST', 'MultiPartyCall/name_stopped_late/Participant/', { role: 'Agent', from: '1', to: '2', stay_alone: true, record: true, record_file_format: 'wav', recording_callback_url: `${receiverUrl}/late` });
    const [initiated] = await receiver.waitFor(1);
    const recordingId = initiated!.params.RecordingUUID!;
    await sleep(1000);
    first.child.kill('SIGTERM');
    while (!output.includes('recording left waiting')) await sleep(5);
    expect((await api('DELETE', 'MultiPartyCall/name_stopped_late/Record/', {})).status).toBe(204);
    await new Promise((resolve) => first.child.once('exit', resolve));

    receiver.respond = (_callback, response) => response.end('ok');
    const second = await startChild();
    const callbacks = await receiver.waitFor(3, recordingId, 20000);
    expect(callbacks.slice(1).map((callback) => [callback.params.EventName, callback.params.SequenceNumber])).toEqual([
      ['MPCRecordingInitiated', '1'],
      ['MPCRecordingCompleted', '2'],
    ]);
    const { recording, audio } = await completedWav(second.url, recordingId);
    expect(recording.failure_reason).toBeNull();
    expect(toneProfile(audio, 440).every((level) => level < 0.05)).toBe(true);
    await receiver.stop();
  });

  it('on Ctrl-C, which reaches the media shards too, shuts down cleanly and completes the live recording with all its audio', { timeout: 90_000 }, async () => {
    const first = await startChild({ ownProcessGroup: true });
    const api = apiOf(first.url);
    const stream = await streamingAgent(api, 'interrupted');
    const { body: started } = await api('POST', 'MultiPartyCall/name_interrupted/Record/', { file_format: 'wav' });
    await sleep(1500);
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)));
    // What a terminal does on Ctrl-C: SIGINT to the gateway and to its media shards at once.
    const interruptedAt = performance.now();
    process.kill(-first.child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    stream.stop();

    const second = await startChild();
    const { recording } = await completedWav(second.url, started.recording_id);
    expect(recording.failure_reason).toBeNull();
    // The file holds the audio up to the interrupt, not only what had been written out before it.
    expect(Number(recording.recording_duration_ms)).toBeGreaterThan(1500);
    expect(Number(recording.recording_end_ms)).toBeLessThanOrEqual(Date.now() - (performance.now() - interruptedAt) + 100);
  });

  it('on SIGTERM, completes a live recording with the file it finished, though a silent participant keeps the MPC going', { timeout: 90_000 }, async () => {
    const receiver = new CallbackReceiver(AUTH_TOKEN);
    const receiverUrl = await receiver.start();
    const first = await startChild();
    const api = apiOf(first.url);
    const stream = await streamingAgent(api, 'term');
    await api('POST', 'MultiPartyCall/name_term/Participant/', { role: 'Customer', from: '1', to: '3', stay_alone: true }); // never streams
    const { body: started } = await api('POST', 'MultiPartyCall/name_term/Record/', { file_format: 'wav', recording_callback_url: `${receiverUrl}/term` });
    await sleep(1500);

    const terminated = performance.now();
    first.child.kill('SIGTERM');
    await new Promise((resolve) => first.child.once('exit', resolve));
    // The stream is closed at once and answers; nothing waits for the shutdown's 5 s allowance for streams.
    expect(performance.now() - terminated).toBeLessThan(4000);
    stream.stop();
    const second = await startChild();
    const callbacks = await receiver.waitFor(2, started.recording_id, 20000);
    expect(callbacks.map((callback) => callback.params.EventName)).toEqual(['MPCRecordingInitiated', 'MPCRecordingCompleted']);

    await completedWav(second.url, started.recording_id);
    // The streaming agent hung up as its stream closed; the customer, who never streamed, is still in the call.
    const { objects } = (await apiOf(second.url)('GET', 'MultiPartyCall/name_term/Participant/')).body;
    expect(objects.map((participant: { role: string; exit_cause: string | null }) => [participant.role, participant.exit_cause])).toEqual([
      ['agent', 'Participant Call Hangup'],
      ['customer', null],
    ]);
    await receiver.stop();
  });
});
