import { loggedFailure } from '../common/error-catalog.js';
import { reasonOf } from '../common/reason-of.js';
import type { Logger } from '../common/logger.js';
import { isFailureLogged, retryUntilDone } from '../common/retry.js';
import type { ParticipantsChange, RecordingChange, RecordingObserver } from '../recordings/recording-observer.js';
import { storageKey, type RecordingStorage } from '../storage/recording-storage.js';
import type { AudioEncoder, EncoderFactory } from './audio-encoder.js';
import { CallEngine } from './call-engine.js';
import type { RecordingSink } from './recording-sink.js';

export interface RecorderOptions {
  /** How long the mix waits for late frames. */
  jitterMs: number;
  tickMs: number;
  /** How long a recording started before its call had any stream waits for one; default FIRST_STREAM_WAIT_MS. */
  firstStreamWaitMs?: number;
}

/**
 * How long a recording started before its call had any stream waits for one before it is made at
 * 8 kHz: the first stream sets the rate of the call's mix and files. Plivo rings a participant
 * for up to 45 s by default before its call, and so its stream, can begin.
 */
export const FIRST_STREAM_WAIT_MS = 60_000;

/** What the recorder reports back about files: where the recordings service takes over. */
export interface RecordingFiles {
  fileFinished(recordingId: string, file: { bytes: number; durationMs: number; sampleRate: number }): Promise<void>;
  fail(recordingId: string, reason: string): Promise<void>;
  /** Fails a recording whose file could not be written on, keeping what was written of it (left unfinished in storage) where usable. */
  failKeepingWritten(recordingId: string, reason: string): Promise<void>;
  /** The recording's file is open and taking audio (a media shard tells the gateway, which then knows it has it). */
  recordingStarted?(recordingId: string): void;
}

/**
 * A participant recording's tracks: `participant` is the member alone; `all` is one channel per
 * member, as many as the MPC can hold (MP3 holds two: the member, and the rest of the call).
 */
function tracksOf({ recording, callUuid, maxParticipants }: RecordingChange): { member: string; channels: number } | undefined {
  if (recording.scope !== 'participant' || callUuid === undefined) return undefined;
  if (recording.trackType === 'participant') return { member: callUuid, channels: 1 };
  return { member: callUuid, channels: recording.fileFormat === 'mp3' ? 2 : Math.max(2, maxParticipants ?? 2) };
}

/** How long a stop waits for storage to take the files it finishes before it cuts its requests short. */
const STOP_STORAGE_GRACE_MS = 10_000;
/** A store that took longer than this is logged when it succeeds. */
const STORE_SLOW_MS = 1000;

/**
 * Runs the live mix of every MPC that has media or recordings, one clock for all of them, and
 * turns recording state changes into files. Memory per recording is bounded: audio goes to
 * storage as it is encoded.
 */
export class RecorderService implements RecordingObserver {
  private readonly engines = new Map<string, CallEngine>();
  /** Per recording, the chain of its operations, so a pause never overtakes the start it follows. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly endedMpcs = new Set<string>();
  /**
   * Per MPC, whether each call leg is heard, as the last change of its participants said. A stream
   * joining starts from this rather than from its join's read, which a change made meanwhile may
   * have overtaken, its notice arriving before the stream had a place in the mix.
   */
  private readonly audible = new Map<string, Map<string, boolean>>();
  /**
   * Per recording started and not attached yet: its MPC, whether its stop was told (it then waits
   * for no stream), and what ends its wait for the call's first stream while it waits (see attach).
   */
  private readonly unattached = new Map<string, { mpcUuid: string; stopped: boolean; endWait?: () => void }>();
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  /** Once stopping, what the database refuses is left to the restart. */
  private stopping = false;
  private lateFrames = 0;
  /** Tick lateness samples (ms), for the metrics and the capacity benchmark. */
  readonly tickLag: number[] = [];

  /** Set by bindFiles: the recordings service, which itself observes through this recorder. */
  private files!: RecordingFiles;

  constructor(
    private readonly storage: RecordingStorage,
    private readonly encoders: EncoderFactory,
    private readonly logger: Logger,
    private readonly options: RecorderOptions,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  bindFiles(files: RecordingFiles): void {
    this.files = files;
  }

  start(): void {
    this.lastTick = this.clock();
    this.timer = setInterval(() => this.tick(), this.options.tickMs);
  }

  /**
   * Stops the clock and finishes every file up to now. The streams are closed by then, so no late
   * frame can come: the jitter window is mixed too, rather than lost. Storage that has not taken
   * the files within STOP_STORAGE_GRACE_MS (a bucket that hangs) is no longer waited for: they stay
   * in its spool, for the restart. Live recordings of calls that have had no stream are left as
   * they are: they hold nothing but silence, and their calls go on, so the restart carries them on.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    // Those still waiting for their call's first stream are left unmade (see attach).
    for (const { endWait } of this.unattached.values()) endWait?.();
    await Promise.all([...this.unattached.keys()].map((recordingId) => this.chains.get(recordingId)));
    const now = this.clock();
    for (const engine of this.engines.values()) {
      for (const sink of engine.tick(now + this.options.jitterMs)) this.chain(sink.recordingId, () => this.finish(sink));
    }
    const abandon = setTimeout(() => this.storage.abandonRequests?.(), STOP_STORAGE_GRACE_MS);
    try {
      const engines = [...this.engines.values()];
      await Promise.all(engines.flatMap((engine) => engine.allSinks().map((sink) => (engine.streamed ? this.finish(sink) : this.leaveUnfinished(sink)))));
      await Promise.all(this.chains.values());
    } finally {
      clearTimeout(abandon);
    }
    await this.encoders.close();
  }

  /** The process is about to die: what each unfinished file has queued is written out, for its salvage. */
  async persist(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await Promise.all(this.allSinks().map((sink) => sink.persist().catch(() => undefined)));
  }

  private allSinks(): RecordingSink[] {
    return [...this.engines.values()].flatMap((engine) => engine.allSinks());
  }

  // ---- media streams ----

  /**
   * A stream of the call leg `callUuid` started, heard or not as its join read the participant;
   * answers the source id its audio goes to.
   */
  streamStarted(mpcUuid: string, callUuid: string, sampleRate: 8000 | 16000, audibleAtJoin: boolean, untimed = false): string {
    const engine = this.engineFor(mpcUuid, sampleRate);
    const now = this.clock();
    const sourceId = engine.addSource(callUuid, sampleRate, now, untimed);
    for (const waiting of this.unattached.values()) if (waiting.mpcUuid === mpcUuid) waiting.endWait?.();
    // Not in the last change's participants: it left meanwhile.
    const known = this.audible.get(mpcUuid);
    engine.setAudible(callUuid, known ? (known.get(callUuid) ?? false) : audibleAtJoin, now);
    return sourceId;
  }

  /** Places a frame of the stream's audio; a frame that came late (dropped, clipped or shifted) is counted as late. */
  streamAudio(mpcUuid: string, sourceId: string, timestampMs: number, samples: Int16Array) {
    const result = this.engines.get(mpcUuid)?.push(sourceId, timestampMs, samples, this.clock()) ?? 'unknown';
    if (result === 'late' || result === 'shifted' || result === 'clipped') this.lateFrames += 1;
    return result;
  }

  streamEnded(mpcUuid: string, sourceId: string): void {
    this.engines.get(mpcUuid)?.removeSource(sourceId, this.clock());
  }

  sourceStats(mpcUuid: string, sourceId: string) {
    return this.engines.get(mpcUuid)?.stats(sourceId);
  }

  // ---- state changes from the API ----

  recordingsChanged(changes: readonly RecordingChange[]): void {
    for (const change of changes) {
      const clockMs = this.clock() - (Date.now() - change.at.getTime());
      const { recordingId, mpcUuid } = change.recording;
      // Counted from now, not from when its turn comes: the MPC may end before then.
      if (change.event === 'Initiated') this.unattached.set(recordingId, { mpcUuid, stopped: false });
      const unattached = this.unattached.get(recordingId);
      if (unattached && (change.event === 'Completed' || change.event === 'Failed')) {
        // Its file is made now, however far its call is from a stream.
        unattached.stopped = true;
        unattached.endWait?.();
      }
      this.chain(recordingId, () => this.apply(change, clockMs));
    }
  }

  participantsChanged({ mpcUuid, present, ended }: ParticipantsChange): void {
    // A supervisor is recorded whatever its coach mode; mute and hold take a participant out.
    const audible = new Map(present.map((participant) => [participant.callUuid, !participant.mute && !participant.hold]));
    if (ended) {
      if (this.engines.has(mpcUuid) || this.isAttaching(mpcUuid)) this.endedMpcs.add(mpcUuid);
      this.audible.delete(mpcUuid);
    } else {
      this.audible.set(mpcUuid, audible);
    }
    const engine = this.engines.get(mpcUuid);
    if (!engine) return;
    const now = this.clock();
    for (const [callUuid, heard] of audible) engine.setAudible(callUuid, heard, now);
  }

  /** Live figures, for the metrics route and the capacity benchmark. */
  stats() {
    const engines = [...this.engines.values()];
    const lags = [...this.tickLag].sort((a, b) => a - b);
    const percentile = (p: number) => (lags.length === 0 ? 0 : lags[Math.min(lags.length - 1, Math.floor(lags.length * p))]!);
    return {
      calls: engines.length,
      sources: engines.reduce((sum, engine) => sum + engine.sourceCount, 0),
      recordings: engines.reduce((sum, engine) => sum + engine.sinkCount, 0),
      late_frames: this.lateFrames,
      encoder_lag_ms: this.encoders.lagMs?.() ?? 0,
      tick_ms: this.options.tickMs,
      tick_lag_ms: { p50: percentile(0.5), p99: percentile(0.99), max: lags.at(-1) ?? 0, samples: lags.length },
    };
  }

  /** Forgets the tick lag seen so far, so a measurement can start clean. */
  resetTickLag(): void {
    this.tickLag.length = 0;
  }

  private async apply(change: RecordingChange, clockMs: number): Promise<void> {
    const { recording, event } = change;
    if (event === 'Initiated') {
      await this.attach(change, clockMs);
      return;
    }
    if (event === 'Failed') return;
    // A recording never attached has no engine to stop it in, nor needs one made.
    this.engines.get(recording.mpcUuid)?.schedule(recording.recordingId, clockMs, event === 'Paused' ? 'pause' : event === 'Resumed' ? 'resume' : 'stop');
  }

  /**
   * Makes the recording's file and encoder and attaches them to its MPC's engine. Meanwhile the
   * engine is kept, though the MPC may end and leave it with nothing else: the recording's stop,
   * which the end brings, is applied there once it is attached. A recording started before its call
   * had any stream first waits for one, whose rate it takes (a wideband call is recorded at 16 kHz),
   * until FIRST_STREAM_WAIT_MS have passed or it stops; the engine gives it the silence meanwhile.
   */
  private async attach(change: RecordingChange, clockMs: number): Promise<void> {
    const { recording } = change;
    const { mpcUuid } = recording;
    const engine = this.engineFor(mpcUuid);
    try {
      if (!engine.streamed) {
        await this.firstStream(recording.recordingId, mpcUuid);
        if (!engine.streamed && this.leavesUnmade(recording.recordingId)) return;
      }
      engine.holdRate();
      const tracks = tracksOf(change);
      const channels = tracks?.channels ?? 1;
      // Several channels are recorded at the mix's rate; one follows the audio it holds.
      const sampleRate = channels > 1 ? engine.rate : engine.recordingRate(tracks?.member);
      const writer = await this.storage.create(storageKey(recording));
      const spec = { format: recording.fileFormat, sampleRate, channels };
      let encoder: AudioEncoder | undefined;
      try {
        encoder = await this.encoders.create(spec, (bytes) => writer.append(bytes));
        engine.attach({ recordingId: recording.recordingId, encoder, writer, clockMs, tracks, sinceStart: change.carriedOn });
      } catch (error) {
        // Neither its encoder nor its file is left behind.
        encoder?.discard();
        await writer.abort();
        throw error;
      }
      this.files.recordingStarted?.(recording.recordingId);
      this.logger.info({ recording_id: recording.recordingId, mpc_uuid: mpcUuid, sample_rate: sampleRate, channels }, 'recording started');
    } finally {
      this.unattached.delete(recording.recordingId);
    }
  }

  /**
   * Whether a recording still waiting for its call's first stream as the recorder stops is left
   * unmade (see stop). One whose stop was told is made now, with the commands told meanwhile.
   */
  private leavesUnmade(recordingId: string): boolean {
    if (!this.stopping || this.unattached.get(recordingId)?.stopped) return false;
    this.logLeftToRestart(recordingId);
    return true;
  }

  /** Leaves the file of a live recording of a call that has had no stream unfinished, with nothing told (see stop). */
  private async leaveUnfinished(sink: RecordingSink): Promise<void> {
    this.logLeftToRestart(sink.recordingId);
    await sink.close().catch(() => undefined);
  }

  private logLeftToRestart(recordingId: string): void {
    this.logger.info({ recording_id: recordingId }, 'recording left waiting for its call\'s first stream: the next start carries it on');
  }

  /** Whether a recording of the MPC is started and not attached yet (its file and encoder are being made). */
  private isAttaching(mpcUuid: string): boolean {
    for (const waiting of this.unattached.values()) if (waiting.mpcUuid === mpcUuid) return true;
    return false;
  }

  /** Resolves once the MPC's first stream joins, the recording stops, the recorder stops, or the wait is over. */
  private async firstStream(recordingId: string, mpcUuid: string): Promise<void> {
    const unattached = this.unattached.get(recordingId);
    if (this.stopping || !unattached || unattached.stopped) return;
    const startedAt = this.clock();
    const timedOut = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(true), this.options.firstStreamWaitMs ?? FIRST_STREAM_WAIT_MS);
      unattached.endWait = () => {
        clearTimeout(timer);
        resolve(false);
      };
    });
    unattached.endWait = undefined;
    if (timedOut) this.logger.info({ recording_id: recordingId, mpc_uuid: mpcUuid, waited_ms: Math.round(this.clock() - startedAt) }, 'recording made without a stream to take its rate from: its call has had none');
  }

  private tick(): void {
    const now = this.clock();
    this.tickLag.push(Math.max(0, now - this.lastTick - this.options.tickMs));
    if (this.tickLag.length > 10_000) this.tickLag.splice(0, this.tickLag.length - 10_000);
    this.lastTick = now;
    for (const [mpcUuid, engine] of this.engines) {
      for (const sink of engine.tick(now)) this.chain(sink.recordingId, () => this.finish(sink));
      if (this.endedMpcs.has(mpcUuid) && engine.sinkCount === 0 && !this.isAttaching(mpcUuid)) {
        this.engines.delete(mpcUuid);
        this.endedMpcs.delete(mpcUuid);
      }
    }
  }

  private async finish(sink: RecordingSink): Promise<void> {
    const recordingId = sink.recordingId;
    let file: Awaited<ReturnType<RecordingSink['finish']>>;
    try {
      if (sink.failure) throw sink.failure;
      file = await sink.finish();
    } catch (error) {
      this.logger.error({ recording_id: recordingId, err: error }, 'recording file failed; what was written of it is kept where usable');
      await sink.close().catch(() => undefined);
      await this.tell(recordingId, 'its failure', () => this.files.failKeepingWritten(recordingId, `the recording file could not be written: ${(error as Error).message}`));
      return;
    }
    const { store, ...figures } = file;
    if (store && !(await this.stored(recordingId, store))) return;
    this.logger.info({ recording_id: recordingId, bytes: figures.bytes, duration_ms: figures.durationMs }, 'recording file finished');
    await this.tell(recordingId, 'its file', () => this.files.fileFinished(recordingId, { ...figures, sampleRate: sink.sampleRate }));
  }

  /**
   * Stores a file that storage could not take when it was finished (a bucket out of reach), trying
   * until it does: the recording completes then. Answers false when the recorder stops first; the
   * file waits where it was kept, and the restart stores it.
   */
  private async stored(recordingId: string, store: () => Promise<void>): Promise<boolean> {
    const startedAt = performance.now();
    const done = await retryUntilDone(store, {
      giveUp: () => this.stopping,
      onFailure: (error, failures) => {
        if (this.stopping || !isFailureLogged(failures)) return;
        const fields = { recording_id: recordingId, reason: reasonOf(error), failures };
        if (this.storage.isLastingRefusal?.(error)) this.logger.error(fields, 'recording file kept until storage takes it: storage refuses it, which its settings or permissions must change; trying again');
        else this.logger.warn(fields, 'recording file kept until storage takes it; trying again');
      },
    });
    if (!done) this.logger.info({ recording_id: recordingId }, 'recording file left where it was kept: the next start stores it');
    else if (performance.now() - startedAt > STORE_SLOW_MS) {
      this.logger.info({ recording_id: recordingId, waited_ms: Math.round(performance.now() - startedAt) }, 'recording file stored at last');
    }
    return done;
  }

  /**
   * Tells the recordings service what became of a recording, again while the database cannot take
   * it (a server that is down comes back), until the recorder stops: the restart then finds the file.
   */
  private async tell(recordingId: string, what: string, telling: () => Promise<void>): Promise<void> {
    await retryUntilDone(telling, {
      giveUp: () => this.stopping,
      onFailure: (error, failures) => this.logger.warn({ recording_id: recordingId, ...loggedFailure(error), failures }, `recording ${what} could not be recorded in the database; trying again`),
    });
  }

  private chain(recordingId: string, step: () => Promise<void>): void {
    const previous = this.chains.get(recordingId) ?? Promise.resolve();
    const next = previous
      .then(step)
      .catch((error: unknown) => {
        this.logger.error({ recording_id: recordingId, err: error }, 'recorder step failed');
        return this.tell(recordingId, 'its failure', () => this.files.fail(recordingId, `the recorder failed: ${(error as Error).message}`));
      })
      .finally(() => {
        if (this.chains.get(recordingId) === next) this.chains.delete(recordingId);
      });
    this.chains.set(recordingId, next);
  }

  /** The MPC's engine; a new one mixes at `rate`, the rate of the stream or recording that made it. */
  private engineFor(mpcUuid: string, rate: 8000 | 16000 = 8000): CallEngine {
    let engine = this.engines.get(mpcUuid);
    if (!engine) {
      engine = new CallEngine(mpcUuid, this.clock(), this.options.jitterMs, rate);
      this.engines.set(mpcUuid, engine);
    }
    return engine;
  }
}
