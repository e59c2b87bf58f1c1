import { Mixer, type PushResult, type SourceStats } from '@mpc/media';
import type { RecordingWriter } from '../storage/recording-storage.js';
import type { AudioEncoder } from './audio-encoder.js';
import { RecordingSink, type SinkCommand } from './recording-sink.js';


/** A ring of the most recent mixed samples, by timeline position. */
class MixHistory {
  private readonly ring: Int16Array;

  constructor(
    capacity: number,
    /** One past the latest position held: where the mix is. */
    private end: number,
  ) {
    this.ring = new Int16Array(capacity);
  }

  append(from: number, samples: Int16Array): void {
    const size = this.ring.length;
    const tail = samples.length > size ? samples.subarray(samples.length - size) : samples;
    const start = (from + samples.length - tail.length) % size;
    const first = Math.min(tail.length, size - start);
    this.ring.set(tail.subarray(0, first), start);
    this.ring.set(tail.subarray(first), 0);
    this.end = from + samples.length;
  }

  /** The samples from `position` to the latest, if still held; the timeline holds none before 0. */
  since(position: number): { from: number; samples: Int16Array } | undefined {
    const from = Math.max(position, this.end - this.ring.length, 0);
    if (from >= this.end) return undefined;
    const samples = new Int16Array(this.end - from);
    for (let i = 0; i < samples.length; i += 1) samples[i] = this.ring[(from + i) % this.ring.length]!;
    return { from, samples };
  }
}

/**
 * A recording of separate tracks, on the call's timeline shifted by `offset` (where it was
 * attached). Channel 0 is the member's own audio; with more channels, the other participants
 * take the next ones in the order they join, and the last channel takes any beyond.
 */
class TrackMix {
  private readonly channels: Mixer[];
  /** The channel of each call leg, and so of each of its streams. */
  private readonly channelOfCall = new Map<string, number>();
  private readonly channelOfSource = new Map<string, number>();
  private others = 0;

  constructor(
    readonly sink: RecordingSink,
    readonly offset: number,
    rate: 8000 | 16000,
    private readonly member: string,
    channelCount: number,
  ) {
    this.channels = Array.from({ length: channelCount }, () => new Mixer({ sampleRate: rate }));
  }

  get cursor(): number {
    return this.channels[0]!.cursor;
  }

  addSource(id: string, call: string, sampleRate: 8000 | 16000, joinAt: number, untimed: boolean): void {
    let channel = this.channelOfCall.get(call);
    if (channel === undefined) {
      if (call === this.member) channel = 0;
      else if (this.channels.length === 1) return;
      else channel = Math.min(this.channels.length - 1, 1 + this.others++);
      this.channelOfCall.set(call, channel);
    }
    this.channelOfSource.set(id, channel);
    this.channels[channel]!.addSource(id, { sampleRate, joinAt: Math.max(0, joinAt - this.offset), untimed });
  }

  /** Places a frame of the source, on the call's timeline shifted by the offset; see Mixer.push. */
  push(id: string, timestampMs: number, samples: Int16Array, earliest: number): void {
    this.mixerOf(id)?.push(id, timestampMs, samples, Math.max(0, earliest - this.offset));
  }

  /** Every stream its tracks had has left (and there was one). */
  get afterLastStream(): boolean {
    return this.channelOfSource.size > 0 && this.channels.every((mixer) => mixer.sourceCount === 0);
  }

  /** The mixer that takes this source's audio, if the recording has it. */
  mixerOf(id: string): Mixer | undefined {
    const channel = this.channelOfSource.get(id);
    return channel === undefined ? undefined : this.channels[channel];
  }

  /** The tracks up to `until` on the call's timeline, channels interleaved. */
  mixUntil(until: number): Int16Array {
    const tracks = this.channels.map((mixer) => mixer.mixUntil(until - this.offset));
    if (tracks.length === 1) return tracks[0]!;
    const count = tracks.length;
    const frames = tracks[0]!.length;
    const out = new Int16Array(frames * count);
    for (let c = 0; c < count; c += 1) {
      const track = tracks[c]!;
      for (let i = 0; i < frames; i += 1) out[i * count + c] = track[i]!;
    }
    return out;
  }
}

export interface SinkRequest {
  recordingId: string;
  encoder: AudioEncoder;
  writer: RecordingWriter;
  /** When the recording was started, on the engine's clock. */
  clockMs: number;
  /**
   * Whether it begins at `clockMs` even where that is before the engine was made: a recording
   * carried on (see RecordingChange.carriedOn) keeps the time since its start. Any other begins no
   * earlier than the engine, which a start's moment, taken on another clock, may precede by a little.
   */
  sinceStart?: boolean;
  /** For a recording of separate tracks: the member on the first channel, and how many channels. */
  tracks?: { member: string; channels: number };
}

/**
 * The live mix of one MPC, on the call's own timeline: position 0 is when the engine was made,
 * and positions advance with the clock, not with timers, so a long call does not drift. Audio is
 * mixed `jitterMs` behind the clock, which is the time a late frame has to arrive. The mix runs
 * at the rate of the call's first stream: a narrowband call is mixed at 8 kHz, with no resampling.
 */
export class CallEngine {
  private mixer: Mixer;
  private mixRate: 8000 | 16000;
  /** Once a recording has taken the mix's rate, the first stream no longer changes it. */
  private rateHeld = false;
  private readonly sinks = new Map<string, RecordingSink>();
  /** Per recording of separate tracks (participant recordings), its own mixers. */
  private readonly trackMixes = new Map<string, TrackMix>();
  /**
   * Sources in the order they joined, with their call legs and rates. A source is one stream: a
   * call whose stream reconnects is a new source, while the old one's last frames are still mixed.
   */
  private readonly sources = new Map<string, { call: string; rate: 8000 | 16000; joinAt: number; untimed: boolean }>();
  private streamsAdded = 0;
  /** Mute, hold and leave take effect where the mix reaches the moment they happened. */
  private readonly pending: { at: number; apply: () => void }[] = [];
  /**
   * What the sinks attached since the last mix missed, fed to them at the next mix: after the
   * commands given while they were being made, which the recorder schedules once they are attached.
   */
  private readonly catchUps: (() => void)[] = [];
  /** The last seconds of the mix, for a recording whose sink was ready only after its start. */
  private history: MixHistory;

  constructor(
    readonly mpcUuid: string,
    private readonly origin: number,
    private readonly jitterMs: number,
    /** The rate of the stream or recording that made it; a recording's is only provisional (see addSource). */
    rate: 8000 | 16000,
  ) {
    this.mixRate = rate;
    this.mixer = new Mixer({ sampleRate: rate });
    this.history = new MixHistory(2 * rate, 0);
  }

  get rate(): 8000 | 16000 {
    return this.mixRate;
  }

  /** Whether a stream has joined: before one does, the call's rate is not known. */
  get streamed(): boolean {
    return this.streamsAdded > 0;
  }

  /** A recording is about to be made at the mix's rate: the first stream, if still to come, keeps it. */
  holdRate(): void {
    this.rateHeld = true;
  }

  /** Timeline position of a clock reading (ms, on the engine's monotonic clock). */
  positionAt(clockMs: number): number {
    return Math.max(0, this.unclampedPositionAt(clockMs));
  }

  /** Where a clock reading falls on the timeline, before 0 when it precedes the engine. */
  private unclampedPositionAt(clockMs: number): number {
    return Math.round(((clockMs - this.origin) * this.rate) / 1000);
  }

  get cursor(): number {
    return this.mixer.cursor;
  }

  get sourceCount(): number {
    return this.sources.size;
  }

  get sinkCount(): number {
    return this.sinks.size + this.trackMixes.size;
  }

  /**
   * The rate of a new mono recording: 16 kHz when the call is mixed at 16 kHz and wideband audio is
   * present (in the call, or from the one member recorded), 8 kHz otherwise. With no stream to go by
   * (the member's own has not joined yet), a member is recorded at the mix's rate, the likelier rate of what comes.
   */
  recordingRate(member?: string): 8000 | 16000 {
    if (this.rate === 8000) return 8000;
    const rates = [...this.sources.values()].filter((source) => member === undefined || source.call === member).map((source) => source.rate);
    return rates.includes(16000) || (member !== undefined && rates.length === 0) ? 16000 : 8000;
  }

  /**
   * A stream of the call leg `call` joins; answers its source id. An untimed stream's frames carry
   * no timestamps of their own (see MixerSourceOptions.untimed).
   */
  addSource(call: string, sampleRate: 8000 | 16000, clockMs: number, untimed = false): string {
    // Nothing heard nor recorded yet: the call takes its first stream's rate, whatever made the engine.
    if (!this.streamed && !this.rateHeld && sampleRate !== this.mixRate) this.mixAt(sampleRate);
    const id = `${call}#${++this.streamsAdded}`;
    const joinAt = this.positionAt(clockMs);
    this.sources.set(id, { call, rate: sampleRate, joinAt, untimed });
    this.mixer.addSource(id, { sampleRate, joinAt, untimed });
    for (const tracks of this.trackMixes.values()) tracks.addSource(id, call, sampleRate, joinAt, untimed);
    return id;
  }

  /** Mixes at `rate` from where the mix is; positions count samples at the rate, so only while they hold nothing. */
  private mixAt(rate: 8000 | 16000): void {
    const cursor = Math.round((this.mixer.cursor * rate) / this.mixRate);
    this.mixRate = rate;
    this.mixer = new Mixer({ sampleRate: rate, startAt: cursor });
    this.history = new MixHistory(2 * rate, cursor);
  }

  removeSource(id: string, clockMs: number): void {
    this.sources.delete(id);
    this.at(clockMs, () => {
      this.mixer.removeSource(id);
      for (const tracks of this.trackMixes.values()) tracks.mixerOf(id)?.removeSource(id);
    });
  }

  /** Mutes or unmutes every stream of the call leg `call`. */
  setAudible(call: string, audible: boolean, clockMs: number): void {
    for (const [id, source] of this.sources) {
      if (source.call !== call) continue;
      this.at(clockMs, () => {
        this.mixer.setAudible(id, audible);
        for (const tracks of this.trackMixes.values()) tracks.mixerOf(id)?.setAudible(id, audible);
      });
    }
  }

  private at(clockMs: number, apply: () => void): void {
    this.pending.push({ at: this.positionAt(clockMs), apply });
    this.pending.sort((a, b) => a.at - b.at);
  }

  /**
   * Places a frame that arrived at `clockMs`. Half the jitter window is kept as the margin of a
   * frame whose place the mix decides by its arrival (see Mixer.push's `earliest`).
   */
  push(id: string, timestampMs: number, samples: Int16Array, clockMs: number): PushResult {
    const earliest = this.positionAt(clockMs - this.jitterMs / 2);
    for (const tracks of this.trackMixes.values()) tracks.push(id, timestampMs, samples, earliest);
    return this.mixer.push(id, timestampMs, samples, earliest);
  }

  stats(id: string): SourceStats | undefined {
    return this.mixer.stats(id);
  }

  attach(request: SinkRequest): void {
    const at = request.sinceStart ? this.unclampedPositionAt(request.clockMs) : this.positionAt(request.clockMs);
    if (!request.tracks) {
      const sink = new RecordingSink(request.recordingId, this.rate, request.encoder, request.writer, at);
      this.sinks.set(request.recordingId, sink);
      // Making the encoder and file took time, during which the mix may have passed the start.
      this.catchUps.push(() => this.catchUp(sink, at));
      return;
    }
    // Separate tracks are mixed from where they were attached. What the mix passed since the start
    // (a recording that waited for the first stream) is silence in them, at the positions before theirs.
    const offset = this.mixer.cursor;
    const beginsAt = at - offset;
    const sink = new RecordingSink(request.recordingId, this.rate, request.encoder, request.writer, beginsAt);
    const { channels } = request.tracks;
    if (beginsAt < 0) this.catchUps.push(() => feedSilence(sink, beginsAt, 0, this.rate, channels));
    const tracks = new TrackMix(sink, offset, this.rate, request.tracks.member, channels);
    for (const [id, { call, rate, joinAt, untimed }] of this.sources) {
      tracks.addSource(id, call, rate, Math.max(joinAt, at), untimed);
      // Muted or on hold where the mix is now: a recording attached later starts without it.
      if (!this.mixer.isAudible(id)) tracks.mixerOf(id)?.setAudible(id, false);
    }
    this.trackMixes.set(request.recordingId, tracks);
  }

  /**
   * Feeds a sink what the mix passed since `at`: what its history holds, and silence for what it no
   * longer holds, so the file keeps the call's time. For a recording that waited for the first
   * stream, that is the silence before it.
   */
  private catchUp(sink: RecordingSink, at: number): void {
    const missed = this.history.since(at);
    const heldFrom = missed?.from ?? this.mixer.cursor;
    if (at < heldFrom) feedSilence(sink, at, heldFrom, this.rate, 1);
    if (missed) sink.feed(missed.from, missed.samples);
  }

  schedule(recordingId: string, clockMs: number, command: SinkCommand): void {
    const position = this.positionAt(clockMs);
    const tracks = this.trackMixes.get(recordingId);
    if (tracks) tracks.sink.schedule(position - tracks.offset, command);
    else this.sinks.get(recordingId)?.schedule(position, command);
  }

  /** Mixes up to the clock less the jitter delay; answers the sinks that reached their stop. */
  tick(clockMs: number): RecordingSink[] {
    const due = this.positionAt(clockMs - this.jitterMs);
    const finished: RecordingSink[] = [];
    while (this.pending.length > 0 && this.pending[0]!.at <= due) {
      const change = this.pending.shift()!;
      this.mixTo(change.at, finished);
      change.apply();
    }
    this.mixTo(due, finished);
    return finished;
  }

  /** Mixes to `until` and feeds every sink; a sink that reaches its stop leaves at once, so it is finished once. */
  private mixTo(until: number, finished: RecordingSink[]): void {
    if (this.catchUps.length > 0) for (const catchUp of this.catchUps.splice(0)) catchUp();
    const from = this.mixer.cursor;
    if (until <= from) return;
    const mixed = this.mixer.mixUntil(until);
    this.history.append(from, mixed);
    const afterLastStream = this.streamed && this.mixer.sourceCount === 0;
    for (const [id, sink] of this.sinks) {
      sink.afterLastStream = afterLastStream;
      sink.feed(from, mixed);
      if (sink.isStopped || sink.failure) {
        this.sinks.delete(id);
        finished.push(sink);
      }
    }
    for (const [id, tracks] of this.trackMixes) {
      const { sink } = tracks;
      sink.afterLastStream = tracks.afterLastStream;
      sink.feed(tracks.cursor, tracks.mixUntil(until));
      if (sink.isStopped || sink.failure) {
        this.trackMixes.delete(id);
        finished.push(sink);
      }
    }
  }

  /** Every sink, for stopping them all when the process shuts down. */
  allSinks(): RecordingSink[] {
    return [...this.sinks.values(), ...[...this.trackMixes.values()].map((tracks) => tracks.sink)];
  }
}

/** Feeds the sink silence over [from, until), a second at a time. */
function feedSilence(sink: RecordingSink, from: number, until: number, rate: number, channels: number): void {
  const frames = Math.min(until - from, rate);
  const second = new Int16Array(frames * channels);
  for (let position = from; position < until; position += frames) sink.feed(position, second.subarray(0, Math.min(frames, until - position) * channels));
}
