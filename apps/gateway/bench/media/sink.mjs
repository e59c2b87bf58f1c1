// Sink-level measurements, in the bench process: the gateway's own RecordingSink, encoder
// (on an encoder thread, as the gateway runs it) and file storage (FsRecordingStorage), fed a mixed call in 20 ms frames as fast
// as possible, since a live bench cannot produce hours of audio.
//  - stopRuns: the work a stop triggers once the mix reaches it (RecordingSink.finish(): encoder
//    flush, final header, fsync, close, rename) after one hour of audio;
//  - memorySeries: process memory while one recording grows to two hours.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Mixer } from '@mpc/media';
import { speechLike } from '../../../../packages/media/bench/encoder.mjs';
import { EncoderThreads } from '../../dist/recorder/encoder-threads.js';
import { RecordingSink } from '../../dist/recorder/recording-sink.js';
import { FsRecordingStorage, WRITE_BATCH_BYTES } from '../../dist/storage/recording-storage.js';

const frameOf = (rate) => rate / 50; // 20 ms
const LOOP_SECONDS = 10;
const FRAMES_PER_HOUR = 3600 * 50;
/** How far the file writes may trail the encoder while feeding (they run in libuv's thread pool). */
const WRITE_SLACK_BYTES = 1 << 20;

/** Temp dirs still to remove, for the exit hook. */
const tempDirs = new Set();
const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
/** One encoder thread, as the gateway has on this machine. */
const encoders = new EncoderThreads(1, silent);
export const closeSinkEncoders = () => encoders.close();

export function removeSinkTempDirsSync() {
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {}
    tempDirs.delete(dir);
  }
}

let gcFunction;
/** A full GC in this process (V8's gc(), exposed at run time), so memory samples are not garbage. */
export function gc() {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc');
  }
  gcFunction();
}

const cachedLoops = new Map();
/**
 * 10 s of a four-party call as the gateway's mixer makes it: four 8 kHz speech-like voices, each
 * from another place in the speech loop, mixed at `rate` by @mpc/media's Mixer (at 16 kHz, as a
 * call is mixed when its first stream is wideband; the voices themselves stay narrowband).
 */
export function mixedLoop(rate) {
  if (cachedLoops.has(rate)) return cachedLoops.get(rate);
  const FRAME = frameOf(rate);
  const voice = speechLike(60);
  const mixer = new Mixer({ sampleRate: rate });
  const offsets = [0, 13, 29, 41].map((s) => s * 8000);
  offsets.forEach((_, i) => mixer.addSource(`p${i}`, { sampleRate: 8000, joinAt: 0 }));
  const out = new Int16Array(LOOP_SECONDS * rate);
  const frame = new Int16Array(160);
  for (let f = 0; f < LOOP_SECONDS * 50; f++) {
    offsets.forEach((offset, i) => {
      const from = (offset + f * 160) % (voice.length - 160);
      for (let k = 0; k < 160; k++) frame[k] = voice[from + k] >> 1; // -6 dB each, so four rarely clip
      mixer.push(`p${i}`, f * 20, frame);
    });
    out.set(mixer.mixUntil((f + 1) * FRAME), f * FRAME);
  }
  cachedLoops.set(rate, out);
  return out;
}

/** Storage in a fresh temp dir; `appended` counts what the sinks hand to their writers. */
async function scratchStorage() {
  const dir = mkdtempSync(join(tmpdir(), 'mpc-bench-sink-'));
  tempDirs.add(dir);
  const storage = new FsRecordingStorage(dir);
  const appended = { bytes: 0 };
  const partials = [];
  const written = () => partials.reduce((sum, path) => {
    try {
      return sum + statSync(path).size;
    } catch {
      return sum; // renamed by finish()
    }
  }, 0);
  return {
    dir,
    /** A sink as the gateway's CallEngine makes one: the mix at `mixRate`, the file at `fileRate`. */
    async sink(recordingId, format, { mixRate, fileRate }) {
      gc(); // exposes gc before the encoder thread starts, so its settle points collect its garbage too
      const key = `bench/${recordingId}.${format}`;
      const inner = await storage.create(key);
      partials.push(join(dir, `${key}.part`));
      const writer = {
        get failure() {
          return inner.failure;
        },
        append(chunk) {
          appended.bytes += chunk.length;
          inner.append(chunk);
        },
        finish: (header) => inner.finish(header),
        abort: () => inner.abort(),
      };
      const encoder = await encoders.create({ format, sampleRate: fileRate, channels: 1 }, (bytes) => writer.append(bytes));
      return new RecordingSink(recordingId, mixRate, encoder, writer, 0);
    },
    /**
     * Waits until the queued file writes are done, less `slack` bytes: feeding as fast as possible
     * must not leave a backlog that a live recording (50 small writes a second) never has. The
     * writer appends in order at increasing offsets, so a .part file's size is what it wrote.
     * (Not /proc/self/io wchar: it also counts libuv's 8-byte eventfd wake-ups, one per write.)
     */
    async drain(slack = 0) {
      await encoders.synced();
      slack = Math.max(slack, WRITE_BATCH_BYTES * partials.length); // each file holds up to this much back, to write it in one go
      const deadline = performance.now() + 120_000;
      while (written() < appended.bytes - slack) {
        if (performance.now() > deadline) throw new Error('the recording writes did not drain within 120 s');
        await sleep(1);
      }
    },
    async remove() {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      tempDirs.delete(dir);
    },
  };
}

/** Feeds `frames` 20 ms frames of the mix at `rate`, starting at frame `first`, into every sink, interleaved. */
async function feed(sinks, first, frames, drain, rate) {
  const FRAME = frameOf(rate);
  const loop = mixedLoop(rate);
  const loopFrames = loop.length / FRAME;
  for (let f = first; f < first + frames; f++) {
    const at = (f % loopFrames) * FRAME;
    const samples = loop.subarray(at, at + FRAME);
    for (const sink of sinks) sink.feed(f * FRAME, samples);
    if (f % 250 === 249) await drain(WRITE_SLACK_BYTES);
  }
}

/**
 * One-hour recordings of `format`, `concurrency` at a time (fed interleaved, then finished one
 * after another with nothing else running), until `maxRuns` are done or `budgetMs` is spent
 * (at least `minRuns`). Each finish() is timed.
 */
export async function stopRuns({ format, mixRate = 16000, fileRate = 16000, hours = 1, maxRuns = 20, minRuns = 2, budgetMs, concurrency = 2, log = () => {} }) {
  const runs = [];
  const started = performance.now();
  let batchMs = 0;
  while (runs.length < maxRuns) {
    const elapsed = performance.now() - started;
    if (runs.length >= minRuns && elapsed + batchMs > budgetMs) break;
    const size = Math.min(concurrency, maxRuns - runs.length);
    const batchStarted = performance.now();
    const scratch = await scratchStorage(); // each batch starts with no earlier files on disk
    try {
      const sinks = await Promise.all(Array.from({ length: size }, (_, i) => scratch.sink(`${format}-${runs.length + i}`, format, { mixRate, fileRate })));
      await feed(sinks, 0, hours * FRAMES_PER_HOUR, scratch.drain, mixRate);
      await scratch.drain(0);
      const feedMs = performance.now() - batchStarted;
      for (const sink of sinks) {
        const t0 = performance.now();
        const file = await sink.finish();
        const ms = performance.now() - t0;
        if (Math.abs(file.durationMs - hours * 3_600_000) > 100) throw new Error(`a ${format} sink finished with ${file.durationMs} ms, not ${hours} h`);
        if (!(file.bytes > 0)) throw new Error(`a ${format} sink finished with an empty file`);
        runs.push({ ms: Math.round(ms * 100) / 100, bytes: file.bytes, feedSecondsPerHour: Math.round(feedMs / size / hours / 10) / 100 });
      }
    } finally {
      await scratch.remove();
    }
    batchMs = performance.now() - batchStarted;
    log(`${format}: ${runs.length} one-hour recordings finished (last batch of ${size} took ${(batchMs / 1000).toFixed(1)} s)`);
  }
  return { format, mixRate, fileRate, hours, concurrency, runs, seconds: Math.round((performance.now() - started) / 100) / 10 };
}

/**
 * Process memory while one `format` recording is fed `hours` of audio, sampled (after a full GC,
 * and once the file writes caught up) every `everyMinutes` of recorded audio.
 */
export async function memorySeries({ format = 'mp3', mixRate = 8000, fileRate = 8000, hours = 2, everyMinutes = 10, log = () => {} }) {
  const scratch = await scratchStorage();
  const series = [];
  const started = performance.now();
  try {
    const sink = await scratch.sink(`memory-${format}`, format, { mixRate, fileRate });
    const sample = (minutes) => {
      gc();
      const m = process.memoryUsage();
      series.push({ minutes, rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers });
    };
    sample(0);
    const step = everyMinutes * 60 * 50;
    for (let f = 0, minutes = everyMinutes; minutes <= hours * 60; f += step, minutes += everyMinutes) {
      await feed([sink], f, step, scratch.drain, mixRate);
      await scratch.drain(0);
      sample(minutes);
    }
    const file = await sink.finish();
    log(`memory: ${format} recording of ${hours} h fed in ${((performance.now() - started) / 1000).toFixed(1)} s (${(file.bytes / 2 ** 20).toFixed(1)} MiB)`);
    // Slopes from the first sample after the start on (the first minutes include one-off set-up),
    // and over the second half, once V8 has sized its heap for this feed rate.
    const slopes = (from) => {
      const tail = series.filter((s) => s.minutes >= from);
      const slope = (key) => round2(fitSlope(tail.map((s) => [s.minutes / 60, s[key] / 2 ** 20])));
      return { rss: slope('rss'), heapTotal: slope('heapTotal'), heapUsed: slope('heapUsed'), external: slope('external'), arrayBuffers: slope('arrayBuffers') };
    };
    return {
      format,
      mixRate,
      fileRate,
      hours,
      everyMinutes,
      fileBytes: file.bytes,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      series,
      slopeMiBPerHour: slopes(everyMinutes),
      secondHourSlopeMiBPerHour: slopes((hours * 60) / 2),
    };
  } finally {
    await scratch.remove();
  }
}

/** Least-squares slope of [x, y] points. */
export function fitSlope(points) {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? null : sxy / sxx;
}

const round2 = (v) => (v === null ? null : Math.round(v * 100) / 100);
