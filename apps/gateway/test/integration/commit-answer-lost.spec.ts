import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiOf } from '../support/api.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { CommitCuttingProxy } from '../support/commit-cutting-proxy.js';
import { AUTH_TOKEN, freshDatabaseUrl, startTestGateway, type TestGateway } from '../support/gateway.js';
import { ToneStream } from '../support/stream-sender.js';

const onServer = process.env.MPC_TEST_DB === 'postgres';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!onServer)('a commit whose answer the PostgreSQL server never gets back to the gateway', () => {
  let gateway: TestGateway;
  let database: Awaited<ReturnType<typeof freshDatabaseUrl>>;
  let proxy: CommitCuttingProxy;
  const receiver = new CallbackReceiver(AUTH_TOKEN);
  const streams: ToneStream[] = [];
  const api = apiOf(() => gateway);
  let callbackUrl: string;

  beforeAll(async () => {
    database = await freshDatabaseUrl();
    const direct = new URL(database.url!);
    proxy = new CommitCuttingProxy({ host: direct.hostname, port: Number(direct.port) });
    const viaProxy = new URL(direct);
    viaProxy.port = String(await proxy.listen());
    const logger = pino({ level: 'silent' });
    gateway = await startTestGateway({ DATABASE_URL: viaProxy.toString() }, undefined, { logger });
    callbackUrl = `${await receiver.start()}/events`;
  });
  afterAll(async () => {
    for (const stream of streams) stream.stop();
    await gateway?.stop();
    await proxy?.close();
    await database?.drop();
    await receiver.stop();
  });

  /** An MPC with two participants streaming, so that its recordings hold audio. */
  async function mpcWithStreams(name: string): Promise<void> {
    for (const [index, role] of (['Agent', 'Customer'] as const).entries()) {
      const added = await api('POST', `MultiPartyCall/name_${name}/Participant/`, { role, from: '+15550100', to: `+1555010${index + 1}` });
      expect(added.status).toBe(201);
      const stream = new ToneStream({ url: added.body.calls[0].stream_url, framing: 'plivo-mulaw', frequency: 440 + 220 * index });
      await stream.start();
      streams.push(stream);
    }
  }

  /** The recording's file, once its Completed callback has come: its length in seconds (16-bit mono WAV). */
  async function completedFileSeconds(recordingId: string): Promise<number> {
    const events = await receiver.waitFor(2, recordingId);
    expect(events.map((event) => event.params.EventName)).toEqual(['MPCRecordingInitiated', 'MPCRecordingCompleted']);
    const recording = await api('GET', `Recording/${recordingId}/`);
    expect(recording.body.recording_status).toBe('completed');
    const file = await fetch(recording.body.recording_url);
    expect(file.status).toBe(200);
    const wav = Buffer.from(await file.arrayBuffer());
    return (wav.length - 44) / 2 / wav.readUInt32LE(24);
  }

  /** A recording of a new MPC with two participants streaming, 1.5 s under way: answers its id. */
  async function recordingUnderWay(name: string): Promise<string> {
    await mpcWithStreams(name);
    const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { file_format: 'wav', recording_callback_url: callbackUrl });
    expect(started.status).toBe(202);
    await sleep(1500);
    return started.body.recording_id;
  }

  it('still starts the recording it committed, which then records and completes', async () => {
    await mpcWithStreams('start_cut');
    const cuts = proxy.cuts;
    proxy.arm(/insert into "recordings"/i);
    const started = await api('POST', 'MultiPartyCall/name_start_cut/Record/', { file_format: 'wav', recording_callback_url: callbackUrl });
    expect(proxy.cuts).toBe(cuts + 1);
    expect(started.status).toBe(202);
    await sleep(1500);
    expect((await api('DELETE', 'MultiPartyCall/name_start_cut/Record/')).status).toBe(204);
    expect(await completedFileSeconds(started.body.recording_id)).toBeGreaterThan(1);
  });

  it('still stops the recording whose stop it committed, whose file is then finished', async () => {
    const recordingId = await recordingUnderWay('stop_cut');
    const cuts = proxy.cuts;
    proxy.arm(/update "recordings"/i);
    expect((await api('DELETE', 'MultiPartyCall/name_stop_cut/Record/')).status).toBe(204);
    expect(proxy.cuts).toBe(cuts + 1);
    expect(await completedFileSeconds(recordingId)).toBeGreaterThan(1);
  });

  it('answers 503 when the server cannot be asked in time whether the stop committed, and stops the recording once it answers', async () => {
    const recordingId = await recordingUnderWay('stop_cut_down');
    // Down for longer than the 5 s the stop waits to learn what became of its commit.
    const cuts = proxy.cuts;
    proxy.arm(/update "recordings"/i, { refuseAfterCutMs: 7000 });
    const stopped = await api('DELETE', 'MultiPartyCall/name_stop_cut_down/Record/');
    expect(proxy.cuts).toBe(cuts + 1);
    expect(stopped.status).toBe(503);
    // The stop stands: the recording completes, with its file, once the server answers.
    expect(await completedFileSeconds(recordingId)).toBeGreaterThan(1);
  }, 30_000);
});
