import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { ParticipantRow, RecordingRow } from '../persistence/schema.js';
import type { RecordingStorage, RecordingWriter } from '../storage/recording-storage.js';
import type { EncoderFactory, EncoderSpec } from './audio-encoder.js';
import { RecorderService, type RecorderOptions, type RecordingFiles } from './recorder.service.js';

const MPC = { mpcUuid: 'mpc-1', authId: 'MAUNIT0000000000001', mpcName: 'unit' };
const FRAME = 160; // 20 ms at 8 kHz

/** A recorder on a clock the test moves, whose one recording's samples the test reads. */
function recorderWithCapture(
  fileFinished: RecordingFiles['fileFinished'] = async () => undefined,
  fileMade: Promise<void> = Promise.resolve(),
  finish: RecordingWriter['finish'] = async () => ({ bytes: 0 }),
  isLastingRefusal?: RecordingStorage['isLastingRefusal'],
  options: Partial<RecorderOptions> = {},
) {
  const clock = { now: 0 };
  const samples: number[] = [];
  const specs: EncoderSpec[] = [];
  const aborts = { count: 0 };
  const closes = { count: 0 };
  const encoders: EncoderFactory = {
    create: async (spec) => {
      specs.push(spec);
      return {
        sampleRate: spec.sampleRate,
        channels: spec.channels,
        failure: undefined,
        encode: (batch) => void samples.push(...batch),
        end: async () => new Uint8Array(0),
        discard: () => undefined,
      };
    },
    close: async () => undefined,
  };
  const writer: RecordingWriter = {
    failure: undefined,
    append: () => undefined,
    persist: async () => undefined,
    finish,
    abort: async () => void (aborts.count += 1),
    close: async () => void (closes.count += 1),
  };
  const storage: RecordingStorage = {
    remote: false,
    create: async () => fileMade.then(() => writer),
    partial: async () => undefined,
    get: async () => undefined,
    delete: async () => undefined,
    isLastingRefusal,
  };
  const logged: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const recorder = new RecorderService(storage, encoders, logger, { jitterMs: 0, tickMs: 20, ...options }, () => clock.now);
  const failures: string[] = [];
  const fail = async (_id: string, reason: string) => void failures.push(reason);
  recorder.bindFiles({ fileFinished, fail, failKeepingWritten: fail });
  return { recorder, clock, samples, specs, failures, aborts, closes, logged };
}

const participant = (callUuid: string, mute: boolean) => ({ callUuid, mute, hold: false }) as ParticipantRow;

const recording = { recordingId: 'r1', mpcUuid: MPC.mpcUuid, authId: MPC.authId, fileFormat: 'wav', scope: 'mpc', trackType: null } as unknown as RecordingRow;

/** Starts the MPC's recording, once its file and encoder are made. */
async function startRecording(recorder: RecorderService): Promise<void> {
  recorder.recordingsChanged([{ recording, event: 'Initiated', at: new Date() }]);
  await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Records the MPC for one second while the call `c1` streams a constant level; answers the recording's samples. */
async function recordOneSecond({ recorder, clock, samples, failures }: ReturnType<typeof recorderWithCapture>, audibleAtJoin: boolean) {
  const sourceId = recorder.streamStarted(MPC.mpcUuid, 'c1', 8000, audibleAtJoin);
  await startRecording(recorder);
  for (let frame = 0; frame < 50; frame += 1) recorder.streamAudio(MPC.mpcUuid, sourceId, frame * 20, new Int16Array(FRAME).fill(1000));
  clock.now = 1000;
  await recorder.stop();
  expect(failures).toEqual([]);
  expect(samples.length).toBe(8000);
  return samples;
}

describe('RecorderService', () => {
  it('starts a stream from the last change of its participants, told before it joined, over its join\'s older read', async () => {
    const capture = recorderWithCapture();
    // The participant was muted after the join read it, and the change's notice came before the stream had a place in the mix.
    capture.recorder.participantsChanged({ ...MPC, present: [participant('c1', true)], ended: false });
    const samples = await recordOneSecond(capture, true);
    expect(samples.every((sample) => sample === 0)).toBe(true);
  });

  it('starts a stream as its join read the participant when no change was told', async () => {
    const heard = await recordOneSecond(recorderWithCapture(), true);
    expect(heard.every((sample) => sample === 1000)).toBe(true);
    const muted = await recordOneSecond(recorderWithCapture(), false);
    expect(muted.every((sample) => sample === 0)).toBe(true);
  });

  it('starts a stream silent whose participant the last change no longer lists: it left while its stream joined', async () => {
    const capture = recorderWithCapture();
    capture.recorder.participantsChanged({ ...MPC, present: [participant('c2', false)], ended: false });
    const samples = await recordOneSecond(capture, true);
    expect(samples.every((sample) => sample === 0)).toBe(true);
  });

  it('forgets an ended MPC\'s participants', async () => {
    const capture = recorderWithCapture();
    capture.recorder.participantsChanged({ ...MPC, present: [participant('c1', true)], ended: false });
    capture.recorder.participantsChanged({ ...MPC, present: [], ended: true });
    const samples = await recordOneSecond(capture, true);
    expect(samples.every((sample) => sample === 1000)).toBe(true);
  });

  it('tells a finished file again while the database refuses it, rather than failing the recording', async () => {
    let told = 0;
    const capture = recorderWithCapture(async () => {
      told += 1;
      if (told < 3) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    });
    const sourceId = capture.recorder.streamStarted(MPC.mpcUuid, 'c1', 8000, true);
    await startRecording(capture.recorder);
    capture.recorder.streamAudio(MPC.mpcUuid, sourceId, 0, new Int16Array(FRAME));
    capture.recorder.recordingsChanged([{ recording, event: 'Completed', at: new Date() }]);
    capture.clock.now = 100; // the mix passes the stop at its next tick
    capture.recorder.start();
    await vi.waitFor(() => expect(told).toBe(3), { timeout: 3000 });
    await capture.recorder.stop();
    expect(capture.failures).toEqual([]);
  });

  it('finishes a recording whose MPC ended while its file was being made, and then lets the MPC go', async () => {
    let makeFile!: () => void;
    const finished: string[] = [];
    const capture = recorderWithCapture(async (recordingId) => void finished.push(recordingId), new Promise((resolve) => (makeFile = resolve)));
    capture.recorder.start();
    capture.recorder.recordingsChanged([{ recording, event: 'Initiated', at: new Date() }]);
    capture.recorder.participantsChanged({ ...MPC, present: [], ended: true });
    // Ticks run while the file is made: the MPC has ended and its engine holds nothing yet.
    await new Promise((resolve) => setTimeout(resolve, 60));
    makeFile();
    capture.recorder.recordingsChanged([{ recording, event: 'Completed', at: new Date() }]);
    capture.clock.now = 100;
    await vi.waitFor(() => expect(finished).toEqual(['r1']), { timeout: 2000 });
    await vi.waitFor(() => expect(capture.recorder.stats().calls).toBe(0), { timeout: 2000 });
    await capture.recorder.stop();
    expect(capture.failures).toEqual([]);
  });

  describe('a recording started before its call has any stream', () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const WIDE_FRAME = 320; // 20 ms at 16 kHz
    const track = { ...recording, scope: 'participant', trackType: 'participant' } as RecordingRow;
    /** The start of an MPC recording, and of a participant recording of `c1` alone. */
    const starts = [
      ['mpc', { recording }],
      ['track', { recording: track, callUuid: 'c1', maxParticipants: 10 }],
    ] as const;

    /** Streams one second of a constant level from `c1`, at `rate`, from the clock's now; then the clock moves a second on. */
    async function streamOneSecond({ recorder, clock }: ReturnType<typeof recorderWithCapture>, rate: 8000 | 16000) {
      const sourceId = recorder.streamStarted(MPC.mpcUuid, 'c1', rate, true);
      await sleep(20);
      for (let frame = 0; frame < 50; frame += 1) recorder.streamAudio(MPC.mpcUuid, sourceId, frame * 20, new Int16Array(rate / 50).fill(1000));
      clock.now += 1000;
    }

    /**
     * With the clock at 3 s, streams a second of wideband tone and stops: the file is `silentMs` of
     * silence, then that tone (each change's time and the recorder's clock may be a ms apart).
     */
    async function expectSilenceThenTone(capture: ReturnType<typeof recorderWithCapture>, kind: string, silentMs: number) {
      capture.clock.now = 3000;
      await sleep(40);
      await streamOneSecond(capture, 16000);
      await capture.recorder.stop();
      expect(capture.specs.map((spec) => spec.sampleRate), kind).toEqual([16000]);
      const toneAt = capture.samples.findIndex((sample) => sample !== 0);
      expect(Math.abs(toneAt - silentMs * 16), kind).toBeLessThanOrEqual(32);
      expect(capture.samples.length - toneAt, kind).toBe(16_000);
    }

    it('waits for the first stream and takes its rate, beginning with the silence before it, however long, for the MPC and for a participant\'s track', async () => {
      for (const [kind, started] of starts) {
        const capture = recorderWithCapture();
        capture.recorder.start();
        capture.recorder.recordingsChanged([{ ...started, event: 'Initiated', at: new Date() }]);
        await sleep(20);
        expect(capture.specs, kind).toEqual([]);
        // Three seconds of mix pass at the engine's first 8 kHz: more than its history holds.
        capture.clock.now = 3000;
        await sleep(60);
        await streamOneSecond(capture, 16000);
        await capture.recorder.stop();
        expect(capture.specs, kind).toEqual([{ format: 'wav', sampleRate: 16000, channels: 1 }]);
        expect(capture.samples.length, kind).toBe(64_000);
        // The stream's first frame is placed on arrival, as always: where the clock stood when it came.
        expect(capture.samples.findIndex((sample) => sample !== 0), kind).toBe(48_000);
        expect(capture.samples.slice(48_000).every((sample) => sample === 1000), kind).toBe(true);
        expect(capture.failures, kind).toEqual([]);
      }
    });

    it('leaves out a pause made while it waited, for the MPC and for a participant\'s track', async () => {
      for (const [kind, started] of starts) {
        const capture = recorderWithCapture();
        const { recorder, clock } = capture;
        recorder.start();
        recorder.recordingsChanged([{ ...started, event: 'Initiated', at: new Date() }]);
        await sleep(20);
        clock.now = 1000;
        recorder.recordingsChanged([{ recording: started.recording, event: 'Paused', at: new Date() }]);
        await sleep(40);
        clock.now = 2500;
        recorder.recordingsChanged([{ recording: started.recording, event: 'Resumed', at: new Date() }]);
        await sleep(40);
        // 1 s before the pause and 0.5 s after the resume, then the tone.
        await expectSilenceThenTone(capture, kind, 1500);
      }
    });

    it('records the MPC at 8 kHz when every stream of its wideband call has left', async () => {
      const capture = recorderWithCapture();
      const sourceId = capture.recorder.streamStarted(MPC.mpcUuid, 'c1', 16000, true);
      capture.recorder.streamEnded(MPC.mpcUuid, sourceId);
      await startRecording(capture.recorder);
      expect(capture.specs).toEqual([{ format: 'wav', sampleRate: 8000, channels: 1 }]);
      await capture.recorder.stop();
    });

    it('records a member whose stream has not joined a wideband call yet at the call\'s 16 kHz', async () => {
      const capture = recorderWithCapture();
      const { recorder } = capture;
      const other = recorder.streamStarted(MPC.mpcUuid, 'c2', 16000, true);
      recorder.recordingsChanged([{ recording: track, event: 'Initiated', at: new Date(), callUuid: 'c1', maxParticipants: 10 }]);
      await sleep(20);
      expect(capture.specs).toEqual([{ format: 'wav', sampleRate: 16000, channels: 1 }]);
      for (let frame = 0; frame < 50; frame += 1) recorder.streamAudio(MPC.mpcUuid, other, frame * 20, new Int16Array(WIDE_FRAME).fill(500));
      await streamOneSecond(capture, 16000);
      await recorder.stop();
      // The member's own audio only, from its join on.
      expect(capture.samples.length).toBe(16_000);
      expect(capture.samples.every((sample) => sample === 1000)).toBe(true);
    });

    it('is made with the pause and resume told while it waited when its stop is told and the recorder stops', async () => {
      const finished: number[] = [];
      const capture = recorderWithCapture(async (_id, file) => void finished.push(file.durationMs));
      const { recorder, clock } = capture;
      await startRecording(recorder);
      clock.now = 1000;
      recorder.recordingsChanged([{ recording, event: 'Paused', at: new Date() }]);
      clock.now = 2000;
      recorder.recordingsChanged([{ recording, event: 'Resumed', at: new Date() }]);
      clock.now = 3000;
      recorder.recordingsChanged([{ recording, event: 'Completed', at: new Date() }]);
      await recorder.stop();
      expect(finished).toHaveLength(1);
      expect(Math.abs(finished[0]! - 2000)).toBeLessThanOrEqual(2);
    });

    it('is left as it is, with no file, when the recorder stops while it waits: the restart carries it on', async () => {
      for (const [kind, started] of starts) {
        const finished: number[] = [];
        const capture = recorderWithCapture(async (_id, file) => void finished.push(file.durationMs));
        capture.recorder.start();
        capture.recorder.recordingsChanged([{ ...started, event: 'Initiated', at: new Date() }]);
        await sleep(20);
        capture.clock.now = 3000;
        await capture.recorder.stop();
        expect({ specs: capture.specs, finished, failures: capture.failures }, kind).toEqual({ specs: [], finished: [], failures: [] });
      }
    });

    it('is left unfinished when the recorder stops, made once the wait ran out, while its call has had no stream', async () => {
      const finished: number[] = [];
      const capture = recorderWithCapture(async (_id, file) => void finished.push(file.durationMs), undefined, undefined, undefined, { firstStreamWaitMs: 20 });
      capture.recorder.start();
      await startRecording(capture.recorder);
      await vi.waitFor(() => expect(capture.specs).toEqual([{ format: 'wav', sampleRate: 8000, channels: 1 }]), { timeout: 1000 });
      capture.clock.now = 1000;
      await capture.recorder.stop();
      expect({ finished, closes: capture.closes.count, failures: capture.failures }).toEqual({ finished: [], closes: 1, failures: [] });
    });

    it('carried on after a restart, begins where it began and leaves out the pause it is in, for the MPC and for a participant\'s track', async () => {
      for (const [kind, started] of starts) {
        const capture = recorderWithCapture();
        const { recorder, clock } = capture;
        recorder.start();
        // Recorded for 2 s before the restart, and paused since.
        const now = Date.now();
        recorder.recordingsChanged([
          { ...started, event: 'Initiated', at: new Date(now - 2000), carriedOn: true },
          { recording: started.recording, event: 'Paused', at: new Date(now) },
        ]);
        await sleep(20);
        clock.now = 1000;
        recorder.recordingsChanged([{ recording: started.recording, event: 'Resumed', at: new Date() }]);
        await sleep(40);
        // 2 s before the restart and 2 s after the resume, then the tone.
        await expectSilenceThenTone(capture, kind, 4000);
        expect(capture.failures, kind).toEqual([]);
      }
    });

    it('is made at once when its stop is told with its start', async () => {
      const finished: number[] = [];
      const capture = recorderWithCapture(async (_id, file) => void finished.push(file.durationMs), undefined, undefined, undefined, { firstStreamWaitMs: 5000 });
      capture.recorder.start();
      capture.recorder.recordingsChanged([
        { recording, event: 'Initiated', at: new Date() },
        { recording, event: 'Completed', at: new Date() },
      ]);
      await sleep(20);
      capture.clock.now = 100;
      await vi.waitFor(() => expect(finished).toHaveLength(1), { timeout: 1000 });
      await capture.recorder.stop();
    });

    it('keeps the rate it took when the first stream joins while its file is being made', async () => {
      let makeFile!: () => void;
      const capture = recorderWithCapture(undefined, new Promise((resolve) => (makeFile = resolve)), undefined, undefined, { firstStreamWaitMs: 20 });
      const allTracks = { ...recording, scope: 'participant', trackType: 'all' } as RecordingRow;
      capture.recorder.recordingsChanged([{ recording: allTracks, event: 'Initiated', at: new Date(), callUuid: 'c1', maxParticipants: 2 }]);
      await sleep(60);
      // The wait is over (no stream came), and its file is being made at 8 kHz when a wideband stream joins.
      const sourceId = capture.recorder.streamStarted(MPC.mpcUuid, 'c1', 16000, true);
      makeFile();
      await sleep(20);
      for (let frame = 0; frame < 50; frame += 1) capture.recorder.streamAudio(MPC.mpcUuid, sourceId, frame * 20, new Int16Array(WIDE_FRAME).fill(1000));
      capture.clock.now = 1000;
      await capture.recorder.stop();
      expect(capture.failures).toEqual([]);
      expect(capture.specs).toEqual([{ format: 'wav', sampleRate: 8000, channels: 2 }]);
      expect(capture.samples.length).toBe(2 * 8000);
    });

    it('keeps a participant\'s track from its start when its file is made after the mix passed the first stream', async () => {
      let makeFile!: () => void;
      const capture = recorderWithCapture(undefined, new Promise((resolve) => (makeFile = resolve)), undefined, undefined, { jitterMs: 100 });
      const { recorder, clock } = capture;
      recorder.start();
      recorder.recordingsChanged([{ ...starts[1][1], event: 'Initiated', at: new Date() }]);
      await sleep(20);
      clock.now = 3000;
      await sleep(40);
      const sourceId = recorder.streamStarted(MPC.mpcUuid, 'c1', 16000, true);
      // Making the file takes longer than the jitter window: the mix passes the stream's join meanwhile.
      clock.now = 3300;
      await sleep(60);
      makeFile();
      await sleep(20);
      for (let frame = 0; frame < 50; frame += 1) recorder.streamAudio(MPC.mpcUuid, sourceId, frame * 20, new Int16Array(WIDE_FRAME).fill(1000));
      clock.now = 4300;
      await recorder.stop();
      expect(capture.failures).toEqual([]);
      // From its start to the stop: the silence before, and the audio once the track mix had the stream.
      expect(capture.samples.length).toBe(4300 * 16);
      expect(capture.samples.slice(0, 3000 * 16).every((sample) => sample === 0)).toBe(true);
      expect(capture.samples.filter((sample) => sample === 1000).length).toBeGreaterThan(14_000);
    });

    it('is made at 8 kHz once the wait is over, and a wideband stream after that is mixed down into it', async () => {
      const capture = recorderWithCapture(undefined, undefined, undefined, undefined, { firstStreamWaitMs: 30 });
      await startRecording(capture.recorder);
      await vi.waitFor(() => expect(capture.specs).toEqual([{ format: 'wav', sampleRate: 8000, channels: 1 }]), { timeout: 1000 });
      capture.clock.now = 500;
      await streamOneSecond(capture, 16000);
      await capture.recorder.stop();
      expect(capture.samples.length).toBe(12_000);
      expect(capture.samples.slice(0, 4000).every((sample) => sample === 0)).toBe(true);
      expect(capture.samples.slice(4100).every((sample) => Math.abs(sample - 1000) <= 2)).toBe(true);
    });

    it('is made at once when it stops first, as silence to its stop', async () => {
      const finished: number[] = [];
      const capture = recorderWithCapture(async (_id, file) => void finished.push(file.durationMs));
      capture.recorder.start();
      await startRecording(capture.recorder);
      capture.clock.now = 700;
      capture.recorder.recordingsChanged([{ recording, event: 'Completed', at: new Date() }]);
      capture.clock.now = 800;
      await vi.waitFor(() => expect(finished).toHaveLength(1), { timeout: 1000 });
      // Where the stop was made: the change's time and the recorder's clock may be a ms apart.
      expect(Math.abs(finished[0]! - 700)).toBeLessThanOrEqual(2);
      expect(capture.samples).toEqual(new Array(finished[0]! * 8).fill(0));
      await capture.recorder.stop();
    });
  });

  describe('a file storage cannot take when it is finished (a bucket out of reach)', () => {
    /** Records a moment of the MPC and stops it; the writer's finish answers `store`. */
    async function recordAndStop(store: () => Promise<void>, fileFinished: RecordingFiles['fileFinished'], isLastingRefusal?: RecordingStorage['isLastingRefusal']) {
      const capture = recorderWithCapture(fileFinished, Promise.resolve(), async () => ({ bytes: 1044, store }), isLastingRefusal);
      const sourceId = capture.recorder.streamStarted(MPC.mpcUuid, 'c1', 8000, true);
      await startRecording(capture.recorder);
      capture.recorder.streamAudio(MPC.mpcUuid, sourceId, 0, new Int16Array(FRAME));
      capture.recorder.recordingsChanged([{ recording, event: 'Completed', at: new Date() }]);
      capture.clock.now = 100;
      capture.recorder.start();
      return capture;
    }

    it('is stored again and again until storage takes it, and only then does the recording complete', async () => {
      let tries = 0;
      const told: { bytes: number }[] = [];
      const capture = await recordAndStop(
        async () => {
          tries += 1;
          if (tries < 3) throw new Error('connect ECONNREFUSED 127.0.0.1:9000');
        },
        async (_id, file) => {
          expect(tries).toBe(3);
          told.push(file);
        },
      );
      await vi.waitFor(() => expect(told).toEqual([expect.objectContaining({ bytes: 1044, sampleRate: 8000 })]), { timeout: 3000 });
      await capture.recorder.stop();
      expect(capture.failures).toEqual([]);
    });

    it('is left where it was kept, for the restart, when the recorder stops before storage takes it', async () => {
      let tries = 0;
      const told: string[] = [];
      const capture = await recordAndStop(
        async () => {
          tries += 1;
          throw new Error('connect ECONNREFUSED 127.0.0.1:9000');
        },
        async (id) => void told.push(id),
      );
      await vi.waitFor(() => expect(tries).toBeGreaterThan(1), { timeout: 3000 });
      await capture.recorder.stop();
      expect(told).toEqual([]);
      expect(capture.failures).toEqual([]);
      // Kept where it is, not dropped.
      expect(capture.aborts.count).toBe(0);
    });

    it('logs a refusal that trying again does not change as an error, and an outage as a warning', async () => {
      for (const lasting of [false, true]) {
        let tries = 0;
        const capture = await recordAndStop(
          async () => {
            tries += 1;
            if (tries < 2) throw new Error(lasting ? 'Access Denied' : 'connect ECONNREFUSED 127.0.0.1:9000');
          },
          async () => undefined,
          (error) => (error as Error).message === 'Access Denied',
        );
        await vi.waitFor(() => expect(tries).toBe(2), { timeout: 3000 });
        await capture.recorder.stop();
        const kept = capture.logged.filter((line) => line.msg.startsWith('recording file kept until storage takes it'));
        expect(kept.map((line) => line.level), String(lasting)).toEqual([lasting ? 50 : 40]);
      }
    });
  });
});
