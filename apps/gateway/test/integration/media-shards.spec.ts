import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardIndex } from '../../dist/media-shards/shard-placement.js';
import { okApiOf } from '../support/api.js';
import { decodeRecording, toneProfile, type DecodedAudio } from '../support/audio.js';
import { AUTH_ID, startTestGateway, TEST_JITTER_MS, type TestGateway } from '../support/gateway.js';
import { ToneStream } from '../support/stream-sender.js';

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway({ MEDIA_SHARDS: '2' });
});
afterAll(() => gateway?.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const api = okApiOf(() => gateway);

interface ShardStats {
  pid: number;
  calls: number;
  sources: number;
  recordings: number;
}

async function shards(): Promise<ShardStats[]> {
  const metrics = await fetch(`${gateway.url}/health/metrics`).then((response) => response.json());
  return metrics.recorder.shards;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Two shards answer again, neither of them the one with `pid`. */
const replaced = (pid: number) =>
  until('a new shard', async () => {
    const now = await shards().catch(() => undefined);
    return now?.length === 2 && !now.some((shard) => shard.pid === pid) ? now : undefined;
  });

async function recordingFile(recordingId: string, format: 'wav' | 'mp3') {
  const recording = await until(`recording ${recordingId} to finish`, async () => {
    const body = await api('GET', `Recording/${recordingId}/`);
    return body.recording_status === 'completed' || body.recording_status === 'failed' ? body : undefined;
  });
  const response = await until('its file', async () => {
    const file = await fetch(`${gateway.api}/Recording/${recordingId}.${format}`);
    return file.status === 200 ? file : undefined;
  });
  return { recording, audio: decodeRecording(Buffer.from(await response.arrayBuffer()), format) };
}

/** A participant streaming a steady tone to its stream URL, which names the MPC by uuid with a token. */
async function toneParticipant(mpc: string, frequency: number) {
  const added = await api('POST', `MultiPartyCall/name_${mpc}/Participant/`, { role: 'Agent', from: '+14155550100', to: '+14155550101', stay_alone: true });
  const stream = new ToneStream({ url: added.calls[0].stream_url, framing: 'plivo-mulaw', frequency });
  await stream.start();
  return { stream, callUuid: added.calls[0].call_uuid as string };
}

/** Sources in the mix of shard `index`, once both shards answer. */
const sourcesOn = (index: number) =>
  until('two shards', async () => {
    const now = await shards().catch(() => undefined);
    return now?.length === 2 ? now[index]!.sources : undefined;
  });

/**
 * A tone participant once its stream is in its shard's mix, the earlier tests' streams gone from
 * there: a recording started before then begins with silence.
 */
async function joinedToneParticipant(mpc: string, frequency: number) {
  const shard = shardIndex(`${AUTH_ID}/${mpc}`, 2);
  await until(`earlier streams to leave shard ${shard}`, async () => ((await sourcesOn(shard)) === 0 ? true : undefined));
  const participant = await toneParticipant(mpc, frequency);
  await until(`the ${mpc} stream in the mix`, async () => ((await sourcesOn(shard)) === 1 ? true : undefined));
  return { ...participant, joinedBy: performance.now() };
}

/** A frame sent this much later than its time may miss the mix's wait (TEST_JITTER_MS) once it has crossed to the shard. */
const STALLED_MS = TEST_JITTER_MS - 50;

/**
 * The tone is in each 20 ms window of a recording but its first and last 100 ms, except where a frame
 * its sender sent over STALLED_MS late belongs: a stalled test machine makes such gaps, by design. A
 * frame's place in the file is known to within when its stream joined and when the recording started.
 */
function expectTone(audio: DecodedAudio, frequency: number, stream: ToneStream, joinedBy: number, recording: { from: number; to: number }) {
  const excused = new Set<number>();
  stream.lateMs.forEach((late, frame) => {
    if (late <= STALLED_MS) return;
    const from = stream.startSentAt - recording.to + frame * 20;
    const to = joinedBy - recording.from + (frame + 1) * 20;
    for (let window = Math.floor(from / 20); window * 20 < to; window += 1) excused.add(window);
  });
  const levels = toneProfile(audio, frequency);
  const missing = levels.flatMap((level, window) => (window >= 5 && window < levels.length - 5 && level <= 0.12 && !excused.has(window) ? [`${window * 20} ms: ${level.toFixed(2)}`] : []));
  expect(missing, `${frequency} Hz missing`).toEqual([]);
}

describe('media shards', () => {
  it('mixes each MPC on one shard, spreading MPCs over both, each recording holding its own tone only', async () => {
    const tones = [440, 560, 660, 780, 880, 1000];
    const mpcs = tones.map((frequency, index) => ({ name: `shards_${index}`, frequency }));
    const streams = await Promise.all(mpcs.map(({ name, frequency }) => toneParticipant(name, frequency)));
    await until('every stream on a shard', async () => ((await shards()).reduce((sum, shard) => sum + shard.sources, 0) === mpcs.length ? true : undefined));
    const joinedBy = performance.now();
    const recordings = await Promise.all(mpcs.map(({ name }) => api('POST', `MultiPartyCall/name_${name}/Record/`, { file_format: 'wav' })));
    const recordedBy = performance.now();
    await sleep(1200);
    const placed = await shards();
    expect(placed).toHaveLength(2);
    expect(placed.every((shard) => shard.calls > 0 && shard.recordings > 0)).toBe(true);
    expect(placed.reduce((sum, shard) => sum + shard.recordings, 0)).toBe(mpcs.length);
    await Promise.all(mpcs.map(({ name }) => api('DELETE', `MultiPartyCall/name_${name}/Record/`)));
    for (const { stream } of streams) await stream.hangup();

    for (const [index, { frequency }] of mpcs.entries()) {
      const { recording, audio } = await recordingFile(recordings[index].recording_id, 'wav');
      expect(recording.recording_status).toBe('completed');
      expectTone(audio, frequency, streams[index]!.stream, joinedBy, { from: joinedBy, to: recordedBy });
      for (const other of tones.filter((tone) => tone !== frequency)) {
        expect(toneProfile(audio, other).slice(5, -5).every((level) => level < 0.05), `${other} Hz in the ${frequency} Hz recording`).toBe(true);
      }
    }
  });

  it('hands streams opened all at once to their shards without losing a first message', async () => {
    const count = 300;
    const sockets = await Promise.all(
      Array.from({ length: count }, (_, index) => new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`${gateway.url.replace('http', 'ws')}/v1/Account/${AUTH_ID}/MultiPartyCall/name_burst_${index % 60}/Stream/`, { headers: { authorization: gateway.auth } });
        ws.once('open', () => {
          // The start message right after the handshake, then audio at once, as media servers do.
          ws.send(JSON.stringify({ event: 'start', call_uuid: `burst-${index}`, sample_rate: 8000 }));
          for (let frame = 0; frame < 3; frame += 1) ws.send(Buffer.alloc(320));
          resolve(ws);
        });
        ws.once('error', reject);
      })),
    );
    await until(`${count} live sources`, async () => ((await shards()).reduce((sum, shard) => sum + shard.sources, 0) === count ? true : undefined));
    expect(sockets.every((ws) => ws.readyState === WebSocket.OPEN)).toBe(true);
    await Promise.all(sockets.map((ws) => new Promise((resolve) => {
      ws.once('close', resolve);
      ws.close();
    })));
  });

  it('when a shard dies, finishes its recording from storage, hangs its participant up and starts another shard', async () => {
    const { stream, callUuid, joinedBy } = await joinedToneParticipant('shards_crash', 440);
    const requested = performance.now();
    const started = await api('POST', 'MultiPartyCall/name_shards_crash/Record/', { file_format: 'wav' });
    const recording = { from: requested, to: performance.now() };
    // Its last participant's hangup ends the MPC, which its name no longer finds then.
    const { mpc_uuid: mpcUuid } = await api('GET', 'MultiPartyCall/name_shards_crash/');
    const before = await until('the recording on a shard', async () => (await shards()).find((shard) => shard.recordings > 0));
    // Longer than a write batch, so storage holds audio when the shard dies.
    await sleep(2500);
    process.kill(before.pid, 'SIGKILL');

    const salvaged = await recordingFile(started.recording_id, 'wav');
    stream.stop();
    expect(salvaged.recording.recording_status).toBe('completed');
    expect(salvaged.audio.durationMs).toBeGreaterThan(1000);
    expectTone(salvaged.audio, 440, stream, joinedBy, recording);
    const left = await until('the participant to hang up', async () => {
      const { objects } = await api('GET', `MultiPartyCall/uuid_${mpcUuid}/Participant/?call_uuid=${callUuid}`);
      return objects[0]?.exit_time ? objects[0] : undefined;
    });
    expect(left.exit_cause).toBe('Participant Call Hangup');
    expect(await replaced(before.pid)).toHaveLength(2);

    // A recording whose shard dies before storage holds any of its audio fails, and says why.
    const early = await toneParticipant('shards_early_crash', 550);
    const doomed = await api('POST', 'MultiPartyCall/name_shards_early_crash/Record/', { file_format: 'wav' });
    const holder = await until('the early recording on a shard', async () => (await shards()).find((shard) => shard.recordings > 0));
    process.kill(holder.pid, 'SIGKILL');
    const failed = await until('the early recording to end', async () => {
      const body = await api('GET', `Recording/${doomed.recording_id}/`);
      return body.recording_status === 'recording' ? undefined : body;
    });
    early.stream.stop();
    expect(failed.recording_status).toBe('failed');
    expect(failed.failure_reason).toMatch(/^the media shard that held this recording stopped, and no usable audio/);
    await until('two shards again', async () => ((await shards().catch(() => undefined))?.length === 2 ? true : undefined));

    // The MPC's next recording, on the new shard, records again.
    const again = await joinedToneParticipant('shards_after_crash', 660);
    const requestedNext = performance.now();
    const next = await api('POST', 'MultiPartyCall/name_shards_after_crash/Record/', { file_format: 'wav' });
    const nextRecording = { from: requestedNext, to: performance.now() };
    await sleep(1200);
    await api('DELETE', 'MultiPartyCall/name_shards_after_crash/Record/');
    await again.stream.hangup();
    const second = await recordingFile(next.recording_id, 'wav');
    expect(second.recording.recording_status).toBe('completed');
    expectTone(second.audio, 660, again.stream, again.joinedBy, nextRecording);
  });

  /** An active MPC, of one agent, whose media go to shard `index`. */
  async function mpcOnShard(prefix: string, index: number): Promise<string> {
    const name = Array.from({ length: 100 }, (_, i) => `${prefix}_${i}`).find((candidate) => shardIndex(`${AUTH_ID}/${candidate}`, 2) === index)!;
    await api('POST', `MultiPartyCall/name_${name}/Participant/`, { role: 'Agent', from: '1', to: '2', stay_alone: true });
    return name;
  }

  const bothShards = () =>
    until('two shards', async () => {
      const now = await shards().catch(() => undefined);
      return now?.length === 2 ? now : undefined;
    });

  /** Stops the MPC's recording after `ms`; it completed, with a file whose length the API reports. Answers it, and when the stop was asked for. */
  async function stopAndCheck(name: string, recordingId: string, ms: number) {
    await sleep(ms);
    const stopping = performance.now();
    await api('DELETE', `MultiPartyCall/name_${name}/Record/`);
    const { audio } = await recordingFile(recordingId, 'wav');
    const recording = await api('GET', `Recording/${recordingId}/`);
    expect(recording.recording_status).toBe('completed');
    expect(Math.abs(Number(recording.recording_duration_ms) - audio.durationMs)).toBeLessThan(1);
    return { audio, stopping };
  }

  it('closes every stream whose start races its MPC\'s end, leaving nothing of it in the mix', async () => {
    const stuck: string[] = [];
    for (let cycle = 0; cycle < 12; cycle += 1) {
      const name = `shards_race_${cycle}`;
      const added = [];
      for (let member = 0; member < 10; member += 1) {
        added.push(await api('POST', `MultiPartyCall/name_${name}/Participant/`, { role: 'Customer', from: '1', to: String(member), stay_alone: true }));
      }
      const streams = added.map((participant) => new ToneStream({ url: participant.calls[0].stream_url, framing: 'plivo-mulaw', frequency: 440 }));
      await Promise.all(streams.map((stream) => stream.opened));
      const starting = Promise.all(streams.map((stream) => stream.start()));
      // The end comes while the starts are being taken, a few ms apart from one cycle to the next.
      await sleep(cycle % 10);
      await api('DELETE', `MultiPartyCall/name_${name}/`);
      await starting;
      // The gateway closes them all (as the calls' ends would), whether they joined before the end or not.
      const closed = await Promise.race([Promise.all(streams.map((stream) => stream.closed)).then(() => true), sleep(5000).then(() => false)]);
      if (!closed) stuck.push(`${name}: ${streams.filter((stream) => stream.ws.readyState === WebSocket.OPEN).length} of 10 still open`);
      for (const stream of streams) stream.stop();
    }
    expect(stuck).toEqual([]);
    await until('no stream left in a mix', async () => ((await bothShards()).every((shard) => shard.sources === 0) ? true : undefined));
  });

  it('starts on its successor, from its start, a recording sent to a shard as it died, before the shard could start it', async () => {
    const name = await mpcOnShard('shards_dying', 1);
    const [, second] = await bothShards();
    // Frozen, the shard takes the start but cannot act on it; then it dies.
    process.kill(second!.pid, 'SIGSTOP');
    const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { file_format: 'wav' });
    const startAnswered = performance.now();
    await sleep(200);
    process.kill(second!.pid, 'SIGKILL');
    await replaced(second!.pid);
    const { audio, stopping } = await stopAndCheck(name, started.recording_id, 1000);
    // The time the successor took to start is in it, as silence: the call has had no stream.
    expect(audio.durationMs).toBeGreaterThan(stopping - startAnswered - 20);
  });

  it('records what is started on a shard while it is being replaced', async () => {
    const name = await mpcOnShard('shards_restarting', 0);
    const [first] = await bothShards();
    process.kill(first!.pid, 'SIGKILL');
    await until('the shard to die', async () => {
      try {
        process.kill(first!.pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    // Its successor is starting now: what it is sent meanwhile waits for its start.
    const started = await api('POST', `MultiPartyCall/name_${name}/Record/`, { file_format: 'wav' });
    // How long the start takes depends on the machine: the recording is measured from then on.
    await replaced(first!.pid);
    // What came before the new shard was up is not there; the rest is, and the API says as much.
    const { audio } = await stopAndCheck(name, started.recording_id, 1000);
    expect(audio.durationMs).toBeGreaterThan(500);
  });
});
