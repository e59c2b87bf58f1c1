import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { okApiOf } from '../support/api.js';
import { canDecodeMp3, channelOf, decodeRecording, toneProfile, type DecodedAudio } from '../support/audio.js';
import { AUTH_ID, AUTH_TOKEN, OTHER_AUTH_ID, OTHER_AUTH_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.js';
import { ToneStream } from '../support/stream-sender.js';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(() => gateway?.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const api = okApiOf(() => gateway);

/** Calls the API and answers the moment it took effect, as well as the client can tell: the middle of the call. */
async function timed(method: string, path: string, body?: unknown): Promise<{ at: number; result: any }> {
  const before = performance.now();
  const result = await api(method, path, body);
  return { at: (before + performance.now()) / 2, result };
}

async function join(mpc: string, role: string, extra: Record<string, unknown> = {}) {
  const added = await api('POST', `MultiPartyCall/name_${mpc}/Participant/`, { role, from: '+14155550100', to: '+14155550101', stay_alone: true, ...extra });
  const { objects } = await api('GET', `MultiPartyCall/name_${mpc}/Participant/?call_uuid=${added.calls[0].call_uuid}`);
  return { streamUrl: added.calls[0].stream_url as string, memberId: objects[0].member_id as string };
}

async function download(recordingUrl: string): Promise<Buffer> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const response = await fetch(recordingUrl);
    if (response.status === 200) return Buffer.from(await response.arrayBuffer());
    await sleep(100);
  }
  throw new Error(`no file at ${recordingUrl}`);
}

/** Asserts the tone is present exactly inside `intervals` (file ms), window by window, away from the edges. */
function expectTone(audio: DecodedAudio, frequency: number, intervals: [number, number][], margin = 60) {
  const levels = toneProfile(audio, frequency);
  levels.forEach((level, window) => {
    const center = window * 20 + 10;
    const inside = intervals.some(([from, to]) => center > from + margin && center < to - margin);
    const outside = intervals.every(([from, to]) => center < from - margin || center > to + margin);
    if (inside) expect(level, `${frequency} Hz at ${center} ms`).toBeGreaterThan(0.12);
    if (outside) expect(level, `${frequency} Hz at ${center} ms`).toBeLessThan(0.05);
  });
}

describe('recording live streams', () => {
  it.each(canDecodeMp3 ? (['wav', 'mp3'] as const) : (['wav'] as const))(
    'mixes three framings into %s, with pause, mute, a coaching supervisor and a late joiner where they belong',
    async (format) => {
      const mpc = `scene_${format}`;
      const agent = await join(mpc, 'Agent');
      const customer = await join(mpc, 'Customer');
      const supervisor = await join(mpc, 'Supervisor', { coach_mode: true });
      const late = await join(mpc, 'Customer');
      const streams = [
        new ToneStream({ url: agent.streamUrl, framing: 'plivo-mulaw', frequency: 440 }),
        new ToneStream({ url: customer.streamUrl, framing: 'twilio', frequency: 660 }),
        new ToneStream({ url: supervisor.streamUrl, framing: 'binary', frequency: 880, sampleRate: 8000 }),
      ];
      const lateStream = new ToneStream({ url: late.streamUrl, framing: 'plivo-l16', frequency: 1200, sampleRate: 8000 });
      await Promise.all(streams.map((stream) => stream.start()));
      await sleep(300);

      const start = await timed('POST', `MultiPartyCall/name_${mpc}/Record/`, { file_format: format });
      await sleep(500);
      const mute = await timed('POST', `MultiPartyCall/name_${mpc}/Participant/${customer.memberId}/`, { mute: true });
      await sleep(400);
      const unmute = await timed('POST', `MultiPartyCall/name_${mpc}/Participant/${customer.memberId}/`, { mute: false });
      await sleep(300);
      const pause = await timed('POST', `MultiPartyCall/name_${mpc}/Record/Pause/`, {});
      await sleep(400);
      const resume = await timed('POST', `MultiPartyCall/name_${mpc}/Record/Resume/`, {});
      await sleep(200);
      await lateStream.start();
      const lateJoin = performance.now();
      await sleep(600);
      const stop = await timed('DELETE', `MultiPartyCall/name_${mpc}/Record/`, {});

      const audio = decodeRecording(await download(start.result.recording_url), format);
      await Promise.all([...streams, lateStream].map((stream) => stream.hangup()));

      // File time: real time since the start, less the pause.
      const file = (real: number) => (real <= pause.at ? real - start.at : real - start.at - (resume.at - pause.at));
      const end = file(stop.at);
      expect(audio.sampleRate).toBe(8000);
      expect(Math.abs(audio.durationMs - end)).toBeLessThan(60);
      // Where the pause was cut out, the audio before and after meet out of phase: that window is an edge too.
      const splice = file(pause.at);
      expectTone(audio, 440, [[0, splice], [splice, end]]);
      expectTone(audio, 880, [[0, splice], [splice, end]]);
      expectTone(audio, 660, [[0, file(mute.at)], [file(unmute.at), splice], [splice, end]]);
      expectTone(audio, 1200, [[file(lateJoin), end]], 120);

      const recording = await api('GET', `Recording/${start.result.recording_id}/`);
      expect(recording).toMatchObject({ recording_status: 'completed', recording_format: format });
      expect(Math.abs(Number(recording.recording_duration_ms) - audio.durationMs)).toBeLessThan(60);
    },
  );

  /** An agent streaming 440 Hz and a customer streaming 880 Hz, both started. */
  async function agentAndCustomer(mpc: string) {
    const agent = await join(mpc, 'Agent');
    const customer = await join(mpc, 'Customer');
    const agentStream = new ToneStream({ url: agent.streamUrl, framing: 'plivo-mulaw', frequency: 440 });
    const customerStream = new ToneStream({ url: customer.streamUrl, framing: 'plivo-mulaw', frequency: 880 });
    await Promise.all([agentStream.start(), customerStream.start()]);
    return { agent, customer, agentStream, customerStream };
  }

  it('closes a kicked participant\'s stream and takes its audio out of the recording at the kick', async () => {
    const { customer, agentStream, customerStream } = await agentAndCustomer('kicked');
    await sleep(300);
    const start = await timed('POST', 'MultiPartyCall/name_kicked/Record/', { file_format: 'wav' });
    await sleep(600);
    const kick = await timed('DELETE', `MultiPartyCall/name_kicked/Participant/${customer.memberId}/`, {});
    expect(await customerStream.closed).toEqual({ code: 1000, reason: 'the participant left the multiparty call' });
    await sleep(600);
    const stop = await timed('DELETE', 'MultiPartyCall/name_kicked/Record/', {});
    const audio = decodeRecording(await download(start.result.recording_url), 'wav');
    await agentStream.hangup();
    expectTone(audio, 440, [[0, stop.at - start.at]]);
    expectTone(audio, 880, [[0, kick.at - start.at]]);
  });

  it('takes a stream that reconnects, or a second stream of the same call, as that call, leaving no participant behind', async () => {
    const { customer, agentStream, customerStream: first } = await agentAndCustomer('reconnect');
    const { mpc_uuid: mpcUuid } = await api('GET', 'MultiPartyCall/name_reconnect');
    const start = await timed('POST', 'MultiPartyCall/name_reconnect/Record/', { file_format: 'wav' });
    await sleep(500);
    // Closed and reconnected at once, within the mix's jitter window, while its hangup is under way.
    const cut = performance.now();
    first.stop();
    first.ws.terminate();
    const second = new ToneStream({ url: customer.streamUrl, framing: 'plivo-mulaw', frequency: 880 });
    await second.start();
    await sleep(500);
    // A third stream of the call, while the second is open: the newest takes over.
    const takeOver = performance.now();
    const third = new ToneStream({ url: customer.streamUrl, framing: 'plivo-mulaw', frequency: 880 });
    await third.start();
    expect(await second.closed).toEqual({ code: 1000, reason: 'replaced by a newer stream of this call' });
    const tookOver = performance.now();
    await sleep(500);
    // Make before break: a fourth stream starts, and the third is dropped while the fourth is still joining.
    const fourth = new ToneStream({ url: customer.streamUrl, framing: 'plivo-mulaw', frequency: 880 });
    await fourth.start();
    third.stop();
    third.ws.terminate();
    const switched = performance.now();
    await sleep(500);
    expect(fourth.ws.readyState).toBe(WebSocket.OPEN);
    const stop = await timed('DELETE', 'MultiPartyCall/name_reconnect/Record/', {});
    const { objects } = await api('GET', 'MultiPartyCall/name_reconnect/Participant/');
    const present = objects.filter((participant: { exit_cause: string | null }) => participant.exit_cause === null);
    expect(present.map((participant: { role: string }) => participant.role).sort()).toEqual(['agent', 'customer']);
    const audio = decodeRecording(await download(start.result.recording_url), 'wav');
    // The tone is there on either side of each change of stream; a reconnect leaves a short gap.
    const file = (real: number) => real - start.at;
    expectTone(audio, 880, [[0, file(cut)], [file(cut) + 150, file(takeOver)], [file(tookOver), file(switched) - 50], [file(switched) + 150, file(stop.at)]], 100);
    await Promise.all([agentStream.hangup(), fourth.hangup()]);
    // Every stream gone, every participant gone: the MPC ends.
    const status = async () => (await api('GET', `MultiPartyCall/uuid_${mpcUuid}`)).status as string;
    for (let attempt = 0; attempt < 50 && (await status()) !== 'Ended'; attempt += 1) await sleep(100);
    expect(await status()).toBe('Ended');
  });

  it('hears a stream whose audio begins well after its start, and a plain stream that stalls for longer than the jitter window', async () => {
    const timedLate = await join('late_audio', 'Agent');
    const plain = await join('late_audio', 'Customer');
    const start = await timed('POST', 'MultiPartyCall/name_late_audio/Record/', { file_format: 'wav' });
    // The test gateway waits 250 ms for late frames: both begin 600 ms after their start messages.
    const late = new ToneStream({ url: timedLate.streamUrl, framing: 'plivo-mulaw', frequency: 440, audioAfterMs: 600 });
    const stalling = new ToneStream({ url: plain.streamUrl, framing: 'binary', frequency: 880, sampleRate: 8000, audioAfterMs: 600 });
    const begun = performance.now();
    await Promise.all([late.start(), stalling.start()]);
    await sleep(1200);
    const stalled = performance.now();
    await stalling.pause(700);
    const resumed = performance.now();
    await sleep(1000);
    const stop = await timed('DELETE', 'MultiPartyCall/name_late_audio/Record/', {});
    const audio = decodeRecording(await download(start.result.recording_url), 'wav');
    await Promise.all([late.hangup(), stalling.hangup()]);
    const file = (real: number) => real - start.at;
    expectTone(audio, 440, [[file(begun + 600), file(stop.at)]], 150);
    // The plain stream's audio after the stall comes after a gap, rather than never.
    expectTone(audio, 880, [[file(begun + 600), file(stalled)], [file(resumed), file(stop.at)]], 150);
  });

  it('refuses a stream with a reason cut to what a close frame holds, whatever its characters, and its media shard lives on', async () => {
    const shardPids = async () => ((await (await fetch(`${gateway.url}/health/metrics`)).json()).recorder.shards as { pid: number }[]).map((shard) => shard.pid).sort();
    const before = await shardPids();
    const name = encodeURIComponent('€'.repeat(40));
    const added = await api('POST', `MultiPartyCall/name_${name}/Participant/`, { role: 'Agent', from: '1', to: '2' });
    await api('DELETE', `MultiPartyCall/name_${name}/`);
    const refused = new ToneStream({ url: added.calls[0].stream_url, framing: 'plivo-mulaw', frequency: 440 });
    await refused.start();
    const { code, reason } = await refused.closed;
    refused.stop();
    expect(code).toBe(4400);
    expect(reason).toMatch(/^MPC €+$/);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    expect(await shardPids()).toEqual(before);
  });

  it('keeps a 16 kHz participant\'s 5 kHz tone in a 16 kHz recording', async () => {
    const wideband = await join('wideband', 'Agent');
    const stream = new ToneStream({ url: wideband.streamUrl, framing: 'binary', frequency: 5000, sampleRate: 16000 });
    await stream.start();
    await sleep(200);
    const start = await timed('POST', 'MultiPartyCall/name_wideband/Record/', { file_format: 'wav' });
    await sleep(800);
    await api('DELETE', 'MultiPartyCall/name_wideband/Record/', {});
    const audio = decodeRecording(await download(start.result.recording_url), 'wav');
    await stream.hangup();
    expect(audio.sampleRate).toBe(16000);
    expectTone(audio, 5000, [[0, audio.durationMs]]);
    expect((await api('GET', `Recording/${start.result.recording_id}/`)).sample_rate).toBe(16000);
  });

  it('records at 16 kHz a call recorded on add participant, before its wideband stream joined, from the add on', async () => {
    const adding = performance.now();
    const added = await api('POST', 'MultiPartyCall/name_wide_first/Participant/', { role: 'Agent', from: '+14155550100', to: '+14155550101', stay_alone: true, record: true, record_file_format: 'wav' });
    const addAnswered = performance.now();
    const [recording] = (await api('GET', 'Recording/?mpc_name=wide_first')).objects as { recording_id: string; recording_url: string }[];
    await sleep(700);
    const stream = new ToneStream({ url: added.calls[0].stream_url, framing: 'plivo-l16', frequency: 5000, sampleRate: 16000 });
    await stream.start();
    const joined = performance.now();
    await sleep(800);
    const stopping = performance.now();
    await api('DELETE', 'MultiPartyCall/name_wide_first/Record/', {});
    const stopped = performance.now();
    const audio = decodeRecording(await download(recording!.recording_url), 'wav');
    await stream.hangup();
    expect(audio.sampleRate).toBe(16000);
    // The recording began while the add was made and ended while the stop was: the file spans at least what lies between.
    expect(audio.durationMs).toBeGreaterThan(stopping - addAnswered - 20);
    expect(audio.durationMs).toBeLessThan(stopped - adding + 20);
    const lead = audio.durationMs - ((stopping + stopped) / 2 - joined);
    expectTone(audio, 5000, [[lead, audio.durationMs]], 120);
    expect(lead).toBeGreaterThan(600);
    expect((await api('GET', `Recording/${recording!.recording_id}/`)).sample_rate).toBe(16000);
  });

  it('leaves out a participant muted while its stream joined, and out of participant recordings started later, until unmuted', async () => {
    const { agent, customer, agentStream, customerStream } = await agentAndCustomer('muted_first');
    // Soon after the streams started, often while a join is under way, its mute and hold read before this change.
    await api('GET', 'MultiPartyCall/name_muted_first/Participant/');
    await api('POST', `MultiPartyCall/name_muted_first/Participant/${customer.memberId}/`, { mute: true });
    await sleep(500); // the mute has reached the mix
    const alone = await timed('POST', `MultiPartyCall/name_muted_first/Participant/${customer.memberId}/Record/`, { file_format: 'wav', record_track_type: 'participant' });
    const tracks = await api('POST', `MultiPartyCall/name_muted_first/Participant/${agent.memberId}/Record/`, { file_format: 'wav', record_track_type: 'all' });
    await sleep(600);
    const unmute = await timed('POST', `MultiPartyCall/name_muted_first/Participant/${customer.memberId}/`, { mute: false });
    await sleep(600);
    const stop = await timed('DELETE', `MultiPartyCall/name_muted_first/Participant/${customer.memberId}/Record/`, { record_track_type: 'participant' });
    await api('DELETE', `MultiPartyCall/name_muted_first/Participant/${agent.memberId}/Record/`, { record_track_type: 'all' });
    const customerAlone = decodeRecording(await download(alone.result.recording_url), 'wav');
    const agentTracks = decodeRecording(await download(tracks.recording_url), 'wav');
    await Promise.all([agentStream.hangup(), customerStream.hangup()]);
    const unmutedAt = unmute.at - alone.at;
    expectTone(customerAlone, 880, [[unmutedAt, stop.at - alone.at]]);
    expectTone(channelOf(agentTracks, 1), 880, [[unmutedAt, agentTracks.durationMs]], 120);
    expectTone(channelOf(agentTracks, 0), 440, [[0, agentTracks.durationMs]]);
  });

  it.skipIf(!canDecodeMp3)('records a participant alone, and one channel per member (in MP3, the member and the rest of the call)', async () => {
    const agent = await join('tracks', 'Agent', { max_participants: 4 });
    const customer = await join('tracks', 'Customer');
    const streams = [
      new ToneStream({ url: agent.streamUrl, framing: 'plivo-mulaw', frequency: 440 }),
      new ToneStream({ url: customer.streamUrl, framing: 'twilio', frequency: 660 }),
    ];
    for (const stream of streams) await stream.start();
    await sleep(200);
    const both = await api('POST', `MultiPartyCall/name_tracks/Participant/${customer.memberId}/Record/`, { file_format: 'wav', record_track_type: 'both' });
    const stereo = await api('POST', `MultiPartyCall/name_tracks/Participant/${agent.memberId}/Record/`, { file_format: 'mp3', record_track_type: 'all' });
    await sleep(600);
    const lateJoiner = await join('tracks', 'Customer');
    const late = new ToneStream({ url: lateJoiner.streamUrl, framing: 'binary', frequency: 880, sampleRate: 8000 });
    await late.start();
    streams.push(late);
    await sleep(900);
    await api('DELETE', `MultiPartyCall/name_tracks/Participant/${customer.memberId}/Record/`, { record_track_type: 'both' });
    await api('DELETE', `MultiPartyCall/name_tracks/Participant/${agent.memberId}/Record/`, { record_track_type: 'all' });
    const urlOf = (track: string) => both.recordings.find((recording: any) => recording.record_track_type === track).recording_url;
    const alone = decodeRecording(await download(urlOf('participant')), 'wav');
    const perMember = decodeRecording(await download(urlOf('all')), 'wav');
    const twoChannels = decodeRecording(await download(stereo.recording_url), 'mp3');
    for (const stream of streams) await stream.hangup();

    /** Mean level of a tone over the first or last 300 ms of the file (after a 100 ms margin). */
    const level = (audio: DecodedAudio, frequency: number, part: 'early' | 'late') => {
      const levels = toneProfile(audio, frequency);
      const windows = part === 'early' ? levels.slice(5, 20) : levels.slice(-20, -5);
      return windows.reduce((sum, value) => sum + value, 0) / windows.length;
    };
    const expectTones = (audio: DecodedAudio, present: { early: number[]; late: number[] }) => {
      for (const part of ['early', 'late'] as const) {
        for (const frequency of [440, 660, 880]) {
          const found = level(audio, frequency, part);
          if (present[part].includes(frequency)) expect(found, `${frequency} Hz ${part}`).toBeGreaterThan(0.12);
          else expect(found, `${frequency} Hz ${part}`).toBeLessThan(0.05);
        }
      }
    };

    expect(alone.channels).toBe(1);
    expectTones(alone, { early: [660], late: [660] });
    // One channel per member the MPC can hold: the member first, then the others as they joined.
    expect(perMember.channels).toBe(4);
    expectTones(channelOf(perMember, 0), { early: [660], late: [660] });
    expectTones(channelOf(perMember, 1), { early: [440], late: [440] });
    expectTones(channelOf(perMember, 2), { early: [], late: [880] });
    expectTones(channelOf(perMember, 3), { early: [], late: [] });
    expect(twoChannels.channels).toBe(2);
    expectTones(channelOf(twoChannels, 0), { early: [440], late: [440] });
    expectTones(channelOf(twoChannels, 1), { early: [660], late: [660, 880] });
    for (const audio of [alone, perMember, twoChannels]) expect(Math.abs(audio.durationMs - 1500)).toBeLessThan(200);
  });

  it('serves byte ranges of a recording', async () => {
    const { streamUrl } = await join('ranges', 'Agent');
    const stream = new ToneStream({ url: streamUrl, framing: 'plivo-mulaw', frequency: 440 });
    await stream.start();
    const { recording_url } = await api('POST', 'MultiPartyCall/name_ranges/Record/', { file_format: 'wav' });
    await sleep(300);
    await api('DELETE', 'MultiPartyCall/name_ranges/Record/', {});
    const whole = await download(recording_url);
    await stream.hangup();
    const partial = await fetch(recording_url, { headers: { range: 'bytes=10-99' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 10-99/${whole.length}`);
    expect(partial.headers.get('content-type')).toBe('audio/wav');
    expect(Buffer.from(await partial.arrayBuffer())).toEqual(whole.subarray(10, 100));
    const etag = partial.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f-]{36}-\d+"$/);
    const beyond = await fetch(recording_url, { headers: { range: `bytes=${whole.length}-` } });
    expect(beyond.status).toBe(416);
    // The error's body is no version of the file.
    expect(beyond.headers.get('etag')).not.toBe(etag);
    // Validators: a range of this very file, or all of it when If-Range names another; 304 for a copy already held.
    expect((await fetch(recording_url, { headers: { range: 'bytes=0-9', 'if-range': etag } })).status).toBe(206);
    const stale = await fetch(recording_url, { headers: { range: 'bytes=0-9', 'if-range': '"another"' } });
    expect(stale.status).toBe(200);
    expect(Buffer.from(await stale.arrayBuffer())).toEqual(whole);
    const dated = await fetch(recording_url, { headers: { range: 'bytes=0-9', 'if-range': new Date().toUTCString() } });
    expect(dated.status).toBe(200);
    await dated.arrayBuffer();
    const held = await fetch(recording_url, { headers: { 'if-none-match': `"x", ${etag}` } });
    expect(held.status).toBe(304);
    expect((await fetch(recording_url, { headers: { 'if-none-match': '"x"' } })).status).toBe(200);
  });
});

/** Sends an upgrade request with this raw request target; answers the status line. */
async function rawUpgrade(url: string, target: string): Promise<string> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let answer = '';
  for await (const chunk of socket) {
    answer += String(chunk);
    if (answer.includes('\r\n')) break;
  }
  socket.destroy();
  return answer.split('\r\n')[0]!;
}

/** A request through node:http with `Upgrade: h2c`, as `curl --http2` sends: status and body. */
function requestAskingH2c(url: string, method: string, auth?: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' };
    if (auth) headers.authorization = auth;
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    const request = httpRequest(url, { method, headers, agent: false }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += String(chunk)));
      response.on('end', () => resolve({ status: response.statusCode!, body: text }));
    });
    request.on('upgrade', () => reject(new Error('the server upgraded')));
    request.on('error', reject);
    request.end(body);
  });
}

describe('bad streams', () => {
  it('answers 404 to an upgrade whose target is no URL, in the gateway or in a media shard, and keeps serving', async () => {
    const inProcess = await startTestGateway({ MEDIA_SHARDS: '0' });
    try {
      for (const { url } of [gateway, inProcess]) {
        for (const target of ['//[::1', 'http://', '/v1/Account/%zz/MultiPartyCall/name_x/Stream']) {
          expect(await rawUpgrade(url, target), target).toBe('HTTP/1.1 404 Not Found');
        }
        expect((await fetch(`${url}/health/live`)).status).toBe(200);
      }
    } finally {
      await inProcess.stop();
    }
  });

  it('serves a request that asks to upgrade where no stream is, as curl --http2 does, ignoring the upgrade', async () => {
    const inProcess = await startTestGateway({ MEDIA_SHARDS: '0' });
    try {
      for (const served of [gateway, inProcess]) {
        expect(await requestAskingH2c(`${served.url}/health/live`, 'GET')).toEqual({ status: 200, body: '{"status":"ok"}' });
        // A body comes through too.
        const added = await requestAskingH2c(`${served.api}/MultiPartyCall/name_h2c/Participant/`, 'POST', served.auth, '{"role":"Agent","from":"1","to":"2"}');
        expect(added.status).toBe(201);
        expect(JSON.parse(added.body)).toMatchObject({ message: 'add participant action initiated' });
        const unknown = await requestAskingH2c(`${served.api}/Nothing/`, 'GET', served.auth);
        expect(unknown.status).toBe(404);
        expect(JSON.parse(unknown.body)).toMatchObject({ error: expect.stringMatching(/no resource at/) });
      }
    } finally {
      await inProcess.stop();
    }
  });

  it('refuses a stream token on a path naming another MPC before it changes anything', async () => {
    await join('token_home', 'Agent');
    const customer = await join('token_home', 'Customer');
    await api('DELETE', `MultiPartyCall/name_token_home/Participant/${customer.memberId}/`, {});
    const present = async () => (await api('GET', 'MultiPartyCall/name_token_home/Participant/')).objects.filter((participant: { exit_time: string | null }) => !participant.exit_time).length;
    expect(await present()).toBe(1);
    // The kicked customer's own token, on the path of an MPC of another name.
    const elsewhere = new ToneStream({ url: customer.streamUrl.replace(/\/MultiPartyCall\/[^/]+\//, '/MultiPartyCall/name_token_elsewhere/'), framing: 'plivo-mulaw', frequency: 440 });
    try {
      await elsewhere.start();
      expect(await elsewhere.closed).toMatchObject({ code: 4401, reason: expect.stringMatching(/stream token is not for the multiparty call this path names/) });
    } finally {
      elsewhere.stop();
    }
    expect(await present()).toBe(1);
    const other = await fetch(`${gateway.api}/MultiPartyCall/name_token_elsewhere/`, { headers: { authorization: gateway.auth } });
    expect(other.status).toBe(404);
  });

  it('refuses bad streams and drops bad messages, leaving the other participants\' audio intact', { timeout: 30_000 }, async () => {
    const streamTotals = async () => (await (await fetch(`${gateway.url}/health/metrics`)).json()).recorder.streams as Record<string, number>;
    const before = await streamTotals();
    const good = await join('rough', 'Agent');
    const stream = new ToneStream({ url: good.streamUrl, framing: 'plivo-mulaw', frequency: 440 });
    await stream.start();
    const { recording_url } = await api('POST', 'MultiPartyCall/name_rough/Record/', { file_format: 'wav' });
    // A bad message amid good ones is dropped and counted; the stream goes on.
    stream.ws.send('garbage');
    const base = gateway.url.replace('http', 'ws');
    const basic = (id: string, token: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${token}`).toString('base64')}` });
    const closingOf = (url: string, headers: Record<string, string>, send: (ws: WebSocket) => void) => {
      const ws = new WebSocket(url, { headers });
      const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
      ws.once('open', () => send(ws));
      ws.once('error', () => undefined);
      return closed;
    };
    const closeOf = async (url: string, headers: Record<string, string>, send: (ws: WebSocket) => void) => (await closingOf(url, headers, send)).code;
    const path = `/v1/Account/${AUTH_ID}/MultiPartyCall/name_rough/Stream`;
    const start = JSON.stringify({ event: 'start', call_uuid: crypto.randomUUID(), sample_rate: 8000 });
    // A stream that never starts is closed once its time to start is up.
    const silent = closingOf(`${base}${path}`, basic(AUTH_ID, AUTH_TOKEN), () => undefined);

    expect(await closeOf(`${base}${path}`, basic(AUTH_ID, 'wrong-token-xxxxxxxx'), (ws) => ws.send(start))).toBe(4401);
    expect(await closeOf(`${base}${path}`, {}, (ws) => ws.send(start))).toBe(4401);
    expect(await closeOf(`${base}${path}/not-a-token`, {}, (ws) => ws.send(start))).toBe(4401);
    expect(await closeOf(`${base}/v1/Account/${OTHER_AUTH_ID}/MultiPartyCall/name_rough/Stream`, basic(AUTH_ID, AUTH_TOKEN), (ws) => ws.send(start))).toBe(4401);
    expect(await closeOf(`${base}${path}`, basic(AUTH_ID, AUTH_TOKEN), (ws) => ['garbage', '{}', '[1]'].forEach((text) => ws.send(text)))).toBe(4400);
    expect(await closeOf(`${base}${path}`, basic(AUTH_ID, AUTH_TOKEN), (ws) => ws.send(Buffer.alloc(70_000)))).toBe(1009);
    // A start message in no framing is refused at once, naming what its closest framing misses.
    const plivoStart = { event: 'start', start: { callId: crypto.randomUUID(), mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000 } } };
    expect(await closingOf(`${base}${path}`, basic(AUTH_ID, AUTH_TOKEN), (ws) => ws.send(JSON.stringify(plivoStart)))).toEqual({
      code: 4400,
      reason: expect.stringMatching(/^a Plivo start message, but start\.streamId: /),
    });
    const twilioStart = { event: 'start', start: { streamSid: 'MZ1', customParameters: {} } };
    expect((await closingOf(`${base}${path}`, basic(AUTH_ID, AUTH_TOKEN), (ws) => ws.send(JSON.stringify(twilioStart)))).reason).toMatch(/^a Twilio start message, but start\.callSid: /);
    const nulCall = JSON.stringify({ event: 'start', call_uuid: 'a\u0000b', sample_rate: 8000 });
    expect(await closeOf(`${base}${path}`, basic(AUTH_ID, AUTH_TOKEN), (ws) => ws.send(nulCall))).toBe(4400);
    // Another account's credentials on this account's path, and a stream that stops mid-frame.
    expect(await closeOf(`${base}${path}`, basic(OTHER_AUTH_ID, OTHER_AUTH_TOKEN), (ws) => ws.send(start))).toBe(4401);
    await closeOf(`${base}${path}`, basic(AUTH_ID, AUTH_TOKEN), (ws) => {
      ws.send(start);
      ws.send(Buffer.from([1, 2, 3]));
      ws.send('{"event":"media","media":{"timestamp":"x","payload":"!!"}}');
      ws.terminate();
    });

    await sleep(800);
    expect(await silent).toEqual({ code: 4400, reason: 'no valid start message within 10 s' });
    await api('DELETE', 'MultiPartyCall/name_rough/Record/', {});
    const { objects } = await api('GET', 'MultiPartyCall/name_rough/Participant/');
    expect(objects.filter((participant: { role: string }) => participant.role === 'agent')).toHaveLength(1);
    const audio = decodeRecording(await download(recording_url), 'wav');
    await stream.hangup();
    expectTone(audio, 440, [[0, audio.durationMs]]);
    // The metrics sum what the streams that ended counted: the good one's frames and its bad message.
    const summed = async () => {
      const after = await streamTotals();
      return after.ended! > before.ended! && after.malformed! > before.malformed! && after.placed! - before.placed! > 100;
    };
    await expect.poll(summed).toBe(true);
  });
});
