/**
 * The per-call mixer. Time is a timeline counted in samples at the mixer's
 * rate, never wall-clock timers: frames are placed where their media
 * timestamps say, and the caller pulls mixed audio with `mixUntil`.
 *
 * Each source owns a ring buffer covering [cursor, cursor + capacity), with
 * capacity ≥ maxAhead + the longest frame seen, so memory per source is fixed
 * whatever the call length. Slots are zeroed as the cursor passes them, so a
 * slot nobody wrote is silence.
 */
import { Resampler, type TelephonyRate } from './resample.js';

export interface MixerOptions {
  sampleRate: TelephonyRate;
  /** Expected frame length at the mixer rate; default sampleRate / 50 (20 ms). */
  frameSamples?: number;
  /** How far past the cursor a frame may start before it is refused as 'ahead'; default 2000 ms. */
  maxAheadMs?: number;
  /** Timeline position the mix starts at; default 0. */
  startAt?: number;
}

export interface MixerSourceOptions {
  sampleRate: TelephonyRate;
  /** Timeline sample where the source's first frame lands (or later: see `push`'s `earliest`). */
  joinAt: number;
  /**
   * Its frames carry no timing of their own (their timestamps only count the samples sent): each
   * is placed after the one before, or, when that place has passed, where it can still be heard.
   */
  untimed?: boolean;
}

export type PushResult = 'placed' | 'shifted' | 'clipped' | 'late' | 'ahead' | 'unknown';

export interface SourceStats {
  placed: number;
  /** Frames of an untimed source placed later than their timestamps said, as they came late. */
  shifted: number;
  /** Frames that came partly late: their start, which the mix had passed, was dropped. */
  clipped: number;
  /** Times a timed source was moved because its sender's clock runs slow or fast (see followSenderClock). */
  realigned: number;
  late: number;
  ahead: number;
}

interface Source {
  readonly rate: TelephonyRate;
  joinAt: number;
  readonly untimed: boolean;
  readonly resampler: Resampler | undefined;
  audible: boolean;
  /** Media timestamp (ms) of the first frame pushed; it maps to joinAt. */
  firstTimestampMs: number | undefined;
  /** Timestamp (ms) where the previous frame ended, to spot discontinuities for the resampler. */
  expectedTimestampMs: number;
  ring: Int16Array;
  /** One past the last timeline position written; nothing to mix once the cursor reaches it. */
  writtenEnd: number;
  /** How far its first frame's place was past `earliest`: the lead its frames keep while its clock keeps time. */
  firstLead: number;
  /** Since when (timeline position) the largest lead of its frames is kept, and that lead. */
  leadSince: number | undefined;
  maxLead: number;
  minLead: number;
  /** Windows of CLOCK_WINDOW_MS its leads were measured over. */
  windows: number;
  /** Its frames' leads over the second window, while it lasts. */
  secondWindowLeads: number[] | undefined;
  /**
   * The lead its frames keep once under way: their median lead over the second window (or the first
   * frame's, or the margin, where either is more), plus every move later since. The first window is
   * left out: frames queued while its stream joined come in a burst. Frames that come early by a
   * steady amount (queued so, or sent ahead) are no drift, and a frame held up is no measure of it.
   */
  steadyLead: number;
  readonly stats: SourceStats;
}

/** How long every frame of a timed source must come late, or early (see followSenderClock), for its clock to be taken as slow, or fast. */
const CLOCK_WINDOW_MS = 5000;

const EMPTY_RING: Int16Array = new Int16Array(0);

function saturate(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NEGATIVE_INFINITY : sorted[Math.floor(sorted.length / 2)]!;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class Mixer {
  readonly sampleRate: TelephonyRate;
  readonly frameSamples: number;
  readonly maxAheadSamples: number;
  private readonly sources = new Map<string, Source>();
  /** The sources as an array, for the per-chunk loops (no iterator to allocate). */
  private sourceList: Source[] = [];
  private position = 0;
  /** Sum of the audible sources over one chunk, reused. */
  private accumulator: Int32Array;
  /** Resampler output, reused. */
  private scratch: Int16Array;

  constructor(options: MixerOptions) {
    const { sampleRate } = options;
    if (sampleRate !== 8000 && sampleRate !== 16000) throw new RangeError(`unsupported sample rate ${sampleRate}`);
    this.sampleRate = sampleRate;
    this.frameSamples = options.frameSamples ?? sampleRate / 50;
    const maxAheadMs = options.maxAheadMs ?? 2000;
    if (!(this.frameSamples > 0) || !Number.isInteger(this.frameSamples)) throw new RangeError('frameSamples must be a positive integer');
    if (!(maxAheadMs >= 0)) throw new RangeError('maxAheadMs must be >= 0');
    this.maxAheadSamples = Math.round((maxAheadMs * sampleRate) / 1000);
    this.position = options.startAt ?? 0;
    if (!Number.isInteger(this.position) || this.position < 0) throw new RangeError('startAt must be a non-negative integer');
    this.accumulator = new Int32Array(this.frameSamples * 4);
    this.scratch = new Int16Array(this.frameSamples * 2);
  }

  get sourceCount(): number {
    return this.sources.size;
  }

  /** Timeline position (samples) mixed so far. */
  get cursor(): number {
    return this.position;
  }

  /** Ids of the sources currently known. */
  get sourceIds(): string[] {
    return [...this.sources.keys()];
  }

  /**
   * Bytes held in buffers: per source ring and the shared scratch buffers.
   * Diagnostic: it stays flat for a steady stream whatever the call length.
   */
  get bufferedBytes(): number {
    let bytes = this.accumulator.byteLength + this.scratch.byteLength;
    for (const source of this.sources.values()) bytes += source.ring.byteLength;
    return bytes;
  }

  addSource(id: string, options: MixerSourceOptions): void {
    if (this.sources.has(id)) throw new Error(`source ${id} already exists`);
    const { sampleRate, joinAt, untimed = false } = options;
    if (sampleRate !== 8000 && sampleRate !== 16000) throw new RangeError(`unsupported sample rate ${sampleRate}`);
    if (!Number.isInteger(joinAt) || joinAt < 0) throw new RangeError('joinAt must be a non-negative integer');
    this.sources.set(id, {
      rate: sampleRate,
      joinAt,
      untimed,
      resampler: sampleRate === this.sampleRate ? undefined : new Resampler(sampleRate, this.sampleRate),
      audible: true,
      firstTimestampMs: undefined,
      expectedTimestampMs: Number.NaN,
      ring: new Int16Array(nextPowerOfTwo(this.maxAheadSamples + 2 * this.frameSamples)),
      writtenEnd: 0,
      firstLead: 0,
      leadSince: undefined,
      maxLead: Number.NEGATIVE_INFINITY,
      minLead: Number.POSITIVE_INFINITY,
      windows: 0,
      secondWindowLeads: undefined,
      steadyLead: Number.POSITIVE_INFINITY,
      stats: { placed: 0, shifted: 0, clipped: 0, late: 0, ahead: 0, realigned: 0 },
    });
    this.sourceList = [...this.sources.values()];
  }

  /** Stops the source contributing: what was mixed before the cursor stays, anything placed after it is dropped. */
  removeSource(id: string): void {
    this.sources.delete(id);
    this.sourceList = [...this.sources.values()];
  }

  /** Inaudible sources (muted, on hold) are left out of the mix; frames pushed meanwhile are accepted and discarded. */
  setAudible(id: string, audible: boolean): void {
    const source = this.sources.get(id);
    if (source) source.audible = audible;
  }

  /** Whether the source is in the mix now; false for one that is not there. */
  isAudible(id: string): boolean {
    return this.sources.get(id)?.audible ?? false;
  }

  stats(id: string): SourceStats | undefined {
    const source = this.sources.get(id);
    return source ? { ...source.stats } : undefined;
  }

  /**
   * Places a frame by its media timestamp (ms, only differences matter: the
   * source's first frame timestamp maps to joinAt), resampled to the mixer
   * rate. A frame ending at or before the cursor is 'late'; one starting more
   * than maxAhead past the cursor is 'ahead'; both are dropped and counted. A
   * frame partly before the cursor keeps its part after it ('clipped'). A frame
   * overlapping earlier audio of the same source overwrites it.
   *
   * `earliest` is where a frame arriving now can still be placed with a margin
   * before the cursor reaches it. A source's first frame whose place has passed
   * goes there (a stream whose audio begins well after it joined is heard from
   * when it begins, not lost); so does any frame of an untimed source whose
   * place has passed, which moves its later frames with it and leaves silence
   * before it ('shifted').
   */
  push(id: string, timestampMs: number, samples: Int16Array, earliest?: number): PushResult {
    const source = this.sources.get(id);
    if (!source) return 'unknown';
    if (!Number.isFinite(timestampMs)) throw new RangeError(`timestamp ${timestampMs} is not a finite number`);
    const first = source.firstTimestampMs === undefined;
    if (first) source.firstTimestampMs = timestampMs;

    let frame = samples;
    const resampler = source.resampler;
    if (resampler) {
      // The resampler assumes a contiguous stream: after a jump, start it afresh.
      const tolerance = 1000 / source.rate;
      if (!(Math.abs(timestampMs - source.expectedTimestampMs) <= tolerance)) resampler.reset();
      const needed = resampler.outputLength(samples.length);
      if (this.scratch.length < needed) this.scratch = new Int16Array(needed);
      frame = resampler.process(samples, this.scratch);
    }
    source.expectedTimestampMs = timestampMs + (samples.length * 1000) / source.rate;

    let start = source.joinAt + Math.round(((timestampMs - source.firstTimestampMs!) * this.sampleRate) / 1000);
    let moved = false;
    if (earliest !== undefined && start < this.position && (first || source.untimed)) {
      const to = Math.max(Math.ceil(earliest), this.position);
      source.joinAt += to - start;
      start = to;
      moved = !first;
    }
    if (earliest !== undefined && !source.untimed) {
      if (first) source.firstLead = start - Math.ceil(earliest);
      else start = this.followSenderClock(source, start, earliest);
    }
    const end = start + frame.length;
    const cursor = this.position;
    if (end <= cursor) {
      source.stats.late++;
      return 'late';
    }
    if (start - cursor > this.maxAheadSamples) {
      source.stats.ahead++;
      return 'ahead';
    }
    const skip = start < cursor ? cursor - start : 0;
    const from = start + skip;
    if (end - cursor > source.ring.length) this.growRing(source, end - cursor);
    this.write(source.ring, from, frame, skip, frame.length);
    if (end > source.writtenEnd) source.writtenEnd = end;
    if (moved) {
      source.stats.shifted++;
      return 'shifted';
    }
    if (skip > 0) {
      source.stats.clipped++;
      return 'clipped';
    }
    source.stats.placed++;
    return 'placed';
  }

  /**
   * A timed source's frames keep the lead over `earliest` its first frame had, but for jitter. A
   * burst of late frames is dropped, which keeps the source in line with the others. When even the
   * best frame over CLOCK_WINDOW_MS came half the mix's margin (`earliest` to the cursor) later
   * than that, though, the sender's clock runs slow (its timestamps fall behind the mix's clock)
   * and its frames would soon all be late: the source is moved later, that frame back to the first
   * one's lead. That costs a short gap, once per half margin of drift. A clock that runs fast is the
   * mirror: its frames are placed ever later after they came, until they are refused as 'ahead'.
   * When even the latest frame over the window came a whole margin earlier than the source's steady
   * lead (see Source.steadyLead), the source is moved earlier, that frame back to half a margin over
   * it. That drops a stretch of its audio as short as the gap. A move later raises the steady lead
   * by as much. Answers the frame's place.
   */
  private followSenderClock(source: Source, start: number, earliest: number): number {
    const lead = start - Math.ceil(earliest);
    source.maxLead = Math.max(source.maxLead, lead);
    source.minLead = Math.min(source.minLead, lead);
    source.secondWindowLeads?.push(lead);
    source.leadSince ??= this.position;
    if (this.position - source.leadSince < (CLOCK_WINDOW_MS * this.sampleRate) / 1000) return start;
    const { maxLead, minLead } = source;
    source.leadSince = this.position;
    source.maxLead = Number.NEGATIVE_INFINITY;
    source.minLead = Number.POSITIVE_INFINITY;
    const margin = Math.max(0, Math.ceil(earliest) - this.position);
    source.windows += 1;
    if (source.windows === 1) source.secondWindowLeads = [];
    if (source.windows === 2) {
      source.steadyLead = Math.max(source.firstLead, margin, median(source.secondWindowLeads!));
      source.secondWindowLeads = undefined;
    }
    let shift = 0;
    if (maxLead < source.firstLead - margin / 2) {
      shift = source.firstLead - maxLead;
      // Delays that rose and fall again must not move it back: that would cost the next rise a window of late frames.
      source.steadyLead += shift;
    } else if (minLead > source.steadyLead + margin) shift = source.steadyLead + Math.ceil(margin / 2) - minLead;
    if (shift === 0) return start;
    source.joinAt += shift;
    source.stats.realigned++;
    return start + shift;
  }

  /**
   * Mixes [cursor, until) and returns it (length until - cursor, or 0 when
   * until <= cursor), advancing the cursor. Gaps are silence; sums saturate
   * to int16.
   */
  mixUntil(until: number): Int16Array {
    const cursor = this.position;
    const total = Math.floor(until) - cursor;
    if (!(total > 0)) return new Int16Array(0);
    const out = new Int16Array(total);
    let done = 0;
    while (done < total) {
      // Chunks never exceed the accumulator or any ring, so each ring slot is read once and then cleared.
      let chunk = Math.min(total - done, this.accumulator.length);
      for (const source of this.sourceList) chunk = Math.min(chunk, source.ring.length);
      this.mixChunk(cursor + done, chunk, out, done);
      done += chunk;
    }
    this.position = cursor + total;
    return out;
  }

  private mixChunk(position: number, length: number, out: Int16Array, outOffset: number): void {
    if (this.mixFewVoices(position, length, out, outOffset)) return;
    const acc = this.accumulator;
    let contributors = 0;
    for (const source of this.sourceList) {
      if (source.writtenEnd <= position) continue;
      const ring = source.ring;
      const capacity = ring.length;
      let offset = position % capacity;
      let remaining = length;
      let a = 0;
      while (remaining > 0) {
        const run = Math.min(remaining, capacity - offset);
        if (source.audible) {
          if (contributors === 0) {
            for (let i = 0; i < run; i++) acc[a + i] = ring[offset + i];
          } else {
            for (let i = 0; i < run; i++) acc[a + i] += ring[offset + i];
          }
        }
        ring.fill(0, offset, offset + run);
        a += run;
        remaining -= run;
        offset = 0;
      }
      if (source.audible) contributors++;
    }
    if (contributors === 0) return; // `out` is already silence.
    for (let i = 0; i < length; i++) {
      const v = acc[i];
      out[outOffset + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
  }

  /**
   * The usual chunk, mixed in one pass: at most four audible voices, none of whose slots wrap
   * around its ring here. Each sample is read once and written once, where the general path goes
   * through the accumulator once per voice. Answers false, having changed nothing, for any other chunk.
   */
  private mixFewVoices(position: number, length: number, out: Int16Array, outOffset: number): boolean {
    const sources = this.sourceList;
    let count = 0;
    let v0 = EMPTY_RING, v1 = EMPTY_RING, v2 = EMPTY_RING, v3 = EMPTY_RING;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (let s = 0; s < sources.length; s++) {
      const source = sources[s]!;
      if (source.writtenEnd <= position) continue;
      const offset = position % source.ring.length;
      if (offset + length > source.ring.length) return false;
      if (!source.audible) continue;
      if (count === 0) (v0 = source.ring), (a0 = offset);
      else if (count === 1) (v1 = source.ring), (a1 = offset);
      else if (count === 2) (v2 = source.ring), (a2 = offset);
      else if (count === 3) (v3 = source.ring), (a3 = offset);
      else return false;
      count++;
    }
    // Separate loops per count, so each stays a plain loop over typed arrays.
    if (count === 1) {
      out.set(v0.subarray(a0, a0 + length), outOffset);
    } else if (count === 2) {
      for (let i = 0; i < length; i++) out[outOffset + i] = saturate(v0[a0 + i]! + v1[a1 + i]!);
    } else if (count === 3) {
      for (let i = 0; i < length; i++) out[outOffset + i] = saturate(v0[a0 + i]! + v1[a1 + i]! + v2[a2 + i]!);
    } else if (count === 4) {
      for (let i = 0; i < length; i++) out[outOffset + i] = saturate(v0[a0 + i]! + v1[a1 + i]! + v2[a2 + i]! + v3[a3 + i]!);
    }
    for (let s = 0; s < sources.length; s++) {
      const source = sources[s]!;
      if (source.writtenEnd <= position) continue;
      const offset = position % source.ring.length;
      source.ring.fill(0, offset, offset + length);
    }
    return true;
  }

  private write(ring: Int16Array, position: number, frame: Int16Array, from: number, to: number): void {
    const capacity = ring.length;
    let offset = position % capacity;
    // A whole frame that fits before the ring's end, the usual case: no view to make.
    if (from === 0 && to === frame.length && offset + to <= capacity) return ring.set(frame, offset);
    let i = from;
    while (i < to) {
      const run = Math.min(to - i, capacity - offset);
      ring.set(frame.subarray(i, i + run), offset);
      i += run;
      offset = 0;
    }
  }

  /** Only when a frame longer than expected arrives: memory stays bounded by the longest frame. */
  private growRing(source: Source, span: number): void {
    const old = source.ring;
    const ring = new Int16Array(nextPowerOfTwo(this.maxAheadSamples + span));
    const cursor = this.position;
    const end = Math.min(source.writtenEnd, cursor + old.length);
    for (let p = cursor; p < end; ) {
      const offset = p % old.length;
      const run = Math.min(end - p, old.length - offset);
      this.write(ring, p, old.subarray(offset, offset + run), 0, run);
      p += run;
    }
    source.ring = ring;
  }
}
