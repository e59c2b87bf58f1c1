import { Mixer } from '@mpc/media';
import type { RecordingWriter } from '../storage/recording-storage.js';
import type { AudioEncoder } from './audio-encoder.js';
import { RecordingSink, type SinkCommand } from './recording-sink.js';


/** A ring of the most recent mixed samples, by timeline position. */
class MixHistory {
  private readonly ring: Int16Array;
  private end = 0;

  constructor(capacity: number) {
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

  /** The samples from `position` to the latest, if still held. */
  since(position: number): { from: number; samples: Int16Array } | undefined {
    const from = Math.max(position, this.end - this.ring.length);
    if (from >= this.end) return undefined;
    const samples = new Int16Array(this.end - from);
    for (let i = 0; i < samples.length; i += 1) samples[i] = this.ring[(from + i) % this.ring.length]!;
    return { from, samples };
  }
}

/** A mixer of one participant alone, whose timeline is the call's shifted by `offset`. */
interface SoloMix {
  mixer: Mixer;
  sink: RecordingSink;
  sourceId: string;
  offset: number;
}

export interface SinkRequest {
  recordingId: string;
  encoder: AudioEncoder;
  writer: RecordingWriter;
  /** When the recording was started, on the engine's clock. */
  clockMs: number;
  /** For a participant-track recording: that participant's source. */
  solo?: { sourceId: string; sampleRate: 8000 | 16000 };
}

export interface SourceStats {
  placed: number;
  late: number;
  ahead: number;
}

/**
 * The live mix of one MPC, on the call's own timeline: position 0 is when the engine was made,
 * and positions advance with the clock, not with timers, so a long call does not drift. Audio is
 * mixed `jitterMs` behind the clock, which is the time a late frame has to arrive. The mix runs
 * at the rate of the call's first stream: a narrowband call is mixed at 8 kHz, with no resampling.
 */
export class CallEngine {
  private readonly mixer: Mixer;
  private readonly sinks = new Map<string, RecordingSink>();
  /** Per participant-track recording, a mixer of that participant alone. */
  private readonly soloMixers = new Map<string, SoloMix>();
  private readonly sources = new Set<string>();
  /** Mute, hold and leave take effect where the mix reaches the moment they happened. */
  private readonly pending: { at: number; apply: () => void }[] = [];
  /** The last seconds of the mix, for a recording whose sink was ready only after its start. */
  private readonly history: MixHistory;

  constructor(
    readonly mpcUuid: string,
    private readonly origin: number,
    private readonly jitterMs: number,
    readonly rate: 8000 | 16000,
  ) {
    this.mixer = new Mixer({ sampleRate: rate });
    this.history = new MixHistory(2 * rate);
  }

  /** Timeline position of a clock reading (ms, on the engine's monotonic clock). */
  positionAt(clockMs: number): number {
    return Math.max(0, Math.round(((clockMs - this.origin) * this.rate) / 1000));
  }

  get cursor(): number {
    return this.mixer.cursor;
  }

  get sourceCount(): number {
    return this.sources.size;
  }

  get sinkCount(): number {
    return this.sinks.size + this.soloMixers.size;
  }

  addSource(id: string, sampleRate: 8000 | 16000, clockMs: number): void {
    const joinAt = this.positionAt(clockMs);
    this.sources.add(id);
    this.mixer.addSource(id, { sampleRate, joinAt });
    for (const solo of this.soloMixers.values()) {
      if (solo.sourceId === id) solo.mixer.addSource(id, { sampleRate, joinAt: Math.max(0, joinAt - solo.offset) });
    }
  }

  removeSource(id: string, clockMs: number): void {
    this.sources.delete(id);
    this.at(clockMs, () => {
      this.mixer.removeSource(id);
      for (const solo of this.soloMixers.values()) if (solo.sourceId === id) solo.mixer.removeSource(id);
    });
  }

  setAudible(id: string, audible: boolean, clockMs: number): void {
    if (!this.sources.has(id)) return;
    this.at(clockMs, () => {
      this.mixer.setAudible(id, audible);
      for (const solo of this.soloMixers.values()) if (solo.sourceId === id) solo.mixer.setAudible(id, audible);
    });
  }

  private at(clockMs: number, apply: () => void): void {
    this.pending.push({ at: this.positionAt(clockMs), apply });
    this.pending.sort((a, b) => a.at - b.at);
  }

  push(id: string, timestampMs: number, samples: Int16Array): 'placed' | 'late' | 'ahead' | 'unknown' {
    for (const solo of this.soloMixers.values()) if (solo.sourceId === id) solo.mixer.push(id, timestampMs, samples);
    return this.mixer.push(id, timestampMs, samples);
  }

  stats(id: string): SourceStats | undefined {
    return this.mixer.stats(id);
  }

  attach(request: SinkRequest): void {
    const at = this.positionAt(request.clockMs);
    if (!request.solo) {
      const sink = new RecordingSink(request.recordingId, this.rate, request.encoder, request.writer, at);
      // Making the encoder and file took time, during which the mix may have passed the start: catch up.
      const missed = this.history.since(at);
      if (missed) sink.feed(missed.from, missed.samples);
      this.sinks.set(request.recordingId, sink);
      return;
    }
    const offset = this.mixer.cursor;
    const mixer = new Mixer({ sampleRate: this.rate });
    const { sourceId, sampleRate } = request.solo;
    if (this.sources.has(sourceId)) mixer.addSource(sourceId, { sampleRate, joinAt: Math.max(0, at - offset) });
    const sink = new RecordingSink(request.recordingId, this.rate, request.encoder, request.writer, Math.max(0, at - offset));
    this.soloMixers.set(request.recordingId, { mixer, sink, sourceId, offset });
  }

  schedule(recordingId: string, clockMs: number, command: SinkCommand): void {
    const position = this.positionAt(clockMs);
    const solo = this.soloMixers.get(recordingId);
    if (solo) solo.sink.schedule(Math.max(0, position - solo.offset), command);
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
    const from = this.mixer.cursor;
    if (until <= from) return;
    const mixed = this.mixer.mixUntil(until);
    this.history.append(from, mixed);
    for (const [id, sink] of this.sinks) {
      sink.feed(from, mixed);
      if (sink.isStopped || sink.failure) {
        this.sinks.delete(id);
        finished.push(sink);
      }
    }
    for (const [id, { mixer, sink, offset }] of this.soloMixers) {
      const soloFrom = mixer.cursor;
      sink.feed(soloFrom, mixer.mixUntil(until - offset));
      if (sink.isStopped || sink.failure) {
        this.soloMixers.delete(id);
        finished.push(sink);
      }
    }
  }

  /** Every sink, for stopping them all when the process shuts down. */
  allSinks(): RecordingSink[] {
    return [...this.sinks.values(), ...[...this.soloMixers.values()].map((solo) => solo.sink)];
  }
}
