import { Resampler } from '@mpc/media';
import type { FinishedWrite, RecordingWriter } from '../storage/recording-storage.js';
import type { AudioEncoder } from './audio-encoder.js';

export type SinkCommand = 'pause' | 'resume' | 'stop';

/** Audio is handed to the encoder in batches of this length: per call, an encoder costs more than per sample. */
const BATCH_MS = 100;

/**
 * A pause and the resume after it join two moments of the call: the audio fades out over this long
 * before the pause and in over this long after the resume, so the splice does not click.
 */
const SPLICE_FADE_MS = 5;

/**
 * Silence after the last stream of a recording's mix has left is held back, as a count, its last
 * minute: a stop that arrives late but took effect earlier (a hangup the database took only after
 * an outage) can then end the file where it took effect, rather than after the silence since.
 */
const HELD_SILENCE_MS = 60_000;

/**
 * One recording's file being made from the call's mixed audio. State changes are placed on the
 * call's timeline (in mixer samples) and applied exactly where the audio reaches them, so a pause
 * cuts the file at the moment it was asked for, whatever the jitter delay.
 */
export class RecordingSink {
  private recording = true;
  private readonly pending: { at: number; command: SinkCommand }[] = [];
  /** Mono only: a multichannel recording is made at the mix's rate. */
  private readonly resampler: Resampler | undefined;
  private readonly channels: number;
  private writtenSamples = 0;
  private stopped = false;
  private batch: Int16Array;
  private batchFill = 0;
  /** Timeline frames a splice fades over. */
  private readonly fadeFrames: number;
  /** Where the last resume took effect, for the fade in after it. */
  private resumedAt = Number.NEGATIVE_INFINITY;
  /** Set by the call engine: every stream its mix had has left, so what comes now is silence. */
  afterLastStream = false;
  /** Output frames of silence recorded since the last stream left, not yet handed to the encoder. */
  private heldSilence = 0;
  private readonly maxHeldSilence: number;

  constructor(
    readonly recordingId: string,
    private readonly mixerRate: 8000 | 16000,
    private readonly encoder: AudioEncoder,
    private readonly writer: RecordingWriter,
    /** Timeline position where the recording begins (before 0 for separate tracks started before their mix: see CallEngine.attach). */
    private readonly beginsAt: number,
  ) {
    this.channels = encoder.channels;
    if (this.channels > 1 && mixerRate !== encoder.sampleRate) throw new RangeError('a multichannel recording is made at the rate of the mix');
    this.resampler = this.channels === 1 ? new Resampler(mixerRate, encoder.sampleRate) : undefined;
    this.batch = new Int16Array(((encoder.sampleRate * BATCH_MS) / 1000) * this.channels);
    this.fadeFrames = Math.round((mixerRate * SPLICE_FADE_MS) / 1000);
    this.maxHeldSilence = (encoder.sampleRate * HELD_SILENCE_MS) / 1000;
  }

  /** Output samples (per channel) recorded so far: pauses are not in them. */
  get recordedSamples(): number {
    return this.writtenSamples + this.heldSilence;
  }

  get sampleRate(): number {
    return this.encoder.sampleRate;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  get failure(): Error | undefined {
    return this.writer.failure ?? this.encoder.failure;
  }

  schedule(at: number, command: SinkCommand): void {
    this.pending.push({ at: Math.max(at, this.beginsAt), command });
    this.pending.sort((a, b) => a.at - b.at);
  }

  /** Takes the mixed audio of [from, from + frames) on the timeline, channels interleaved. */
  feed(from: number, samples: Int16Array): void {
    const channels = this.channels;
    let position = from;
    const end = from + samples.length / channels;
    while (position < end && !this.stopped) {
      const next = this.pending[0];
      const boundary = Math.min(end, next && next.at < end ? Math.max(next.at, position) : end);
      if (this.recording && boundary > position) {
        const start = Math.max(position, this.beginsAt);
        if (boundary > start) this.write(this.faded(start, samples.subarray((start - from) * channels, (boundary - from) * channels)));
      }
      position = boundary;
      if (next && next.at <= position) {
        this.pending.shift();
        this.apply(next.command, next.at, position);
      }
    }
  }

  /** Flushes the encoder and publishes the file, or keeps it finished for `store` (see RecordingWriter). */
  async finish(): Promise<FinishedWrite & { durationMs: number }> {
    this.stopped = true;
    this.writeHeldSilence();
    this.flush();
    const header = await this.encoder.end();
    const written = await this.writer.finish(header);
    return { ...written, durationMs: (this.writtenSamples * 1000) / this.encoder.sampleRate };
  }

  /** Writes out what storage has queued of the file, which stays unfinished (the process is about to die). */
  persist(): Promise<void> {
    return this.writer.persist();
  }

  abort(): Promise<void> {
    this.stopped = true;
    this.encoder.discard();
    return this.writer.abort();
  }

  /** Stops, leaving what was written of the file unfinished where storage keeps it, for its salvage. */
  close(): Promise<void> {
    this.stopped = true;
    this.encoder.discard();
    return this.writer.close();
  }

  /** A command placed at `at` on the timeline, which the audio fed has reached `reached`. */
  private apply(command: SinkCommand, at: number, reached: number): void {
    if (command === 'stop') {
      this.stopped = true;
      // A stop that took effect before where the audio is now: the silence recorded since is no part of it.
      const late = Math.round(((reached - at) * this.encoder.sampleRate) / this.mixerRate);
      this.heldSilence -= Math.min(this.heldSilence, Math.max(0, late));
    } else {
      this.recording = command === 'resume';
    }
    if (command === 'resume') this.resumedAt = at;
    // Nothing more comes until the resume: what the batch holds goes to the encoder, and on to storage.
    if (command === 'pause') {
      this.writeHeldSilence();
      this.flush();
    }
  }

  /**
   * The samples of [start, …) with the splice fades applied: out over the frames before a pending
   * pause, in over those after the last resume. A copy where a fade applies, as the mix is shared
   * by every recording of the call.
   */
  private faded(start: number, samples: Int16Array): Int16Array {
    const channels = this.channels;
    const end = start + samples.length / channels;
    const fade = this.fadeFrames;
    const next = this.pending[0];
    const pauseAt = next?.command === 'pause' ? next.at : Number.POSITIVE_INFINITY;
    const fadesOut = end > pauseAt - fade;
    const fadesIn = start < this.resumedAt + fade;
    if (!fadesOut && !fadesIn) return samples;
    const out = samples.slice();
    for (let frame = 0; frame < end - start; frame += 1) {
      const position = start + frame;
      const gain = Math.min(1, (pauseAt - position) / fade, (position - this.resumedAt + 1) / fade);
      if (gain >= 1) continue;
      for (let c = 0; c < channels; c += 1) out[frame * channels + c] = Math.round(out[frame * channels + c]! * Math.max(0, gain));
    }
    return out;
  }

  private write(mixed: Int16Array): void {
    const samples = this.resampler ? this.resampler.process(mixed) : mixed;
    if (this.afterLastStream && isSilent(samples)) {
      this.heldSilence += samples.length / this.channels;
      // Only the last HELD_SILENCE_MS of it: what is older goes on to the encoder.
      this.writeHeldSilence(this.heldSilence - this.maxHeldSilence);
      return;
    }
    this.writeHeldSilence();
    this.encode(samples);
  }

  /** Hands the encoder the oldest `frames` of the held silence, all of it unless told. */
  private writeHeldSilence(frames = this.heldSilence): void {
    let left = Math.min(frames, this.heldSilence);
    if (left <= 0) return;
    this.heldSilence -= left;
    while (left > 0) {
      const written = Math.min(left, this.batch.length / this.channels);
      left -= written;
      this.encode(new Int16Array(written * this.channels));
    }
  }

  private encode(samples: Int16Array): void {
    this.writtenSamples += samples.length / this.channels;
    let offset = 0;
    while (offset < samples.length) {
      const taken = Math.min(samples.length - offset, this.batch.length - this.batchFill);
      this.batch.set(samples.subarray(offset, offset + taken), this.batchFill);
      this.batchFill += taken;
      offset += taken;
      if (this.batchFill === this.batch.length) this.flush();
    }
  }

  /** Hands the batch so far to the encoder, which keeps it. */
  private flush(): void {
    if (this.batchFill === 0) return;
    const size = this.batch.length;
    if (this.batchFill < size) {
      this.encoder.encode(this.batch.slice(0, this.batchFill));
    } else {
      // The encoder may keep the batch (until it crosses to its thread): start a new one.
      this.encoder.encode(this.batch);
      this.batch = new Int16Array(size);
    }
    this.batchFill = 0;
  }
}

function isSilent(samples: Int16Array): boolean {
  for (let i = 0; i < samples.length; i += 1) if (samples[i] !== 0) return false;
  return true;
}
