import { describe, expect, it } from 'vitest';
import type { AudioEncoder } from './audio-encoder.js';
import type { RecordingWriter } from '../storage/recording-storage.js';
import { RecordingSink } from './recording-sink.js';

/** An encoder that takes its batches away, as one on another thread does, and counts them. */
function movingEncoder() {
  const batches: Int16Array[] = [];
  const encoder: AudioEncoder = {
    sampleRate: 8000,
    channels: 1,
    failure: undefined,
    encode: (samples) => void batches.push(structuredClone(samples, { transfer: [samples.buffer as ArrayBuffer] })),
    end: async () => new Uint8Array(0),
    discard: () => undefined,
  };
  return { encoder, batches };
}

const writer: RecordingWriter = { failure: undefined, append: () => undefined, persist: async () => undefined, finish: async () => ({ bytes: 0 }), abort: async () => undefined, close: async () => undefined };

describe('RecordingSink', () => {
  it('hands the encoder every sample once, in 100 ms batches, even when the encoder moves the buffers away', async () => {
    const { encoder, batches } = movingEncoder();
    const sink = new RecordingSink('r1', 8000, encoder, writer, 0);
    for (let frame = 0; frame < 52; frame += 1) sink.feed(frame * 160, new Int16Array(160).fill(frame));
    await sink.finish();
    expect(batches.map((batch) => batch.length)).toEqual([...Array<number>(10).fill(800), 320]);
    const all = Int16Array.from(batches.flatMap((batch) => [...batch]));
    expect(all.length).toBe(52 * 160);
    for (let frame = 0; frame < 52; frame += 1) expect(all[frame * 160 + 159]).toBe(frame);
    expect(sink.recordedSamples).toBe(52 * 160);
  });

  it('hands the encoder what it holds when a pause takes effect, not only once the pause is over', () => {
    const { encoder, batches } = movingEncoder();
    const sink = new RecordingSink('r-pause', 8000, encoder, writer, 0);
    sink.schedule(400, 'pause');
    sink.feed(0, new Int16Array(1600).fill(7));
    expect(batches.map((batch) => batch.length)).toEqual([400]);
  });

  it('leaves paused audio out and flushes what it holds at the stop', async () => {
    const { encoder, batches } = movingEncoder();
    const sink = new RecordingSink('r2', 8000, encoder, writer, 0);
    sink.schedule(800, 'pause');
    sink.schedule(1600, 'resume');
    sink.schedule(2000, 'stop');
    sink.feed(0, new Int16Array(4000).fill(7));
    expect(sink.isStopped).toBe(true);
    await sink.finish();
    expect(batches.reduce((sum, batch) => sum + batch.length, 0)).toBe(800 + 400);
    expect(sink.recordedSamples).toBe(1200);
  });

  it('fades out over 5 ms before a pause and in over 5 ms after the resume, leaving the shared mix untouched', async () => {
    const { encoder, batches } = movingEncoder();
    const sink = new RecordingSink('r3', 8000, encoder, writer, 0);
    sink.schedule(800, 'pause');
    sink.schedule(1600, 'resume');
    const mix = new Int16Array(2400).fill(10_000);
    // In 40 ms ticks, as the call engine feeds it, so the fade before the pause spans a feed.
    for (let from = 0; from < mix.length; from += 320) sink.feed(from, mix.subarray(from, from + 320));
    await sink.finish();
    expect(mix.every((sample) => sample === 10_000)).toBe(true);
    const out = Int16Array.from(batches.flatMap((batch) => [...batch]));
    expect(out.length).toBe(800 + 800);
    const fade = 40; // 5 ms at 8 kHz
    // Untouched away from the splice; a ramp down to it and up from it, never a jump.
    expect(out.subarray(0, 800 - fade).every((sample) => sample === 10_000)).toBe(true);
    expect(out.subarray(800 + fade).every((sample) => sample === 10_000)).toBe(true);
    expect(out[799]).toBe(250);
    expect(out[800]).toBe(250);
    for (let i = 1; i < out.length; i += 1) expect(Math.abs(out[i]! - out[i - 1]!)).toBeLessThanOrEqual(250);
    expect(sink.recordedSamples).toBe(1600);
  });

  it('ends the file where a stop told late took effect, leaving out the silence since the last stream left', async () => {
    const { encoder, batches } = movingEncoder();
    const sink = new RecordingSink('r-late', 8000, encoder, writer, 0);
    // 1 s of sound, then 3 s of silence (the participant hung up); the stop comes once it is all mixed.
    sink.feed(0, new Int16Array(8000).fill(5));
    sink.afterLastStream = true;
    for (let from = 8000; from < 32_000; from += 800) sink.feed(from, new Int16Array(800));
    sink.schedule(8000 + 4000, 'stop');
    sink.feed(32_000, new Int16Array(800));
    expect(sink.isStopped).toBe(true);
    const { durationMs } = await sink.finish();
    expect(durationMs).toBe(1500);
    const out = Int16Array.from(batches.flatMap((batch) => [...batch]));
    expect(out.length).toBe(12_000);
    expect(out.subarray(0, 8000).every((sample) => sample === 5)).toBe(true);
    expect(out.subarray(8000).every((sample) => sample === 0)).toBe(true);
  });

  it('keeps silence followed by sound, and sound after where a late stop took effect', async () => {
    const { encoder, batches } = movingEncoder();
    const sink = new RecordingSink('r-gap', 8000, encoder, writer, 0);
    sink.afterLastStream = true;
    sink.feed(0, new Int16Array(800).fill(5));
    sink.feed(800, new Int16Array(1600));
    sink.feed(2400, new Int16Array(800).fill(6));
    expect(sink.recordedSamples).toBe(3200);
    sink.schedule(1000, 'stop');
    sink.feed(3200, new Int16Array(800));
    const { durationMs } = await sink.finish();
    expect(durationMs).toBe(400);
    const out = Int16Array.from(batches.flatMap((batch) => [...batch]));
    expect([out[0], out[1000], out[2399], out[2400], out[3199]]).toEqual([5, 0, 0, 6, 6]);
    expect(out.length).toBe(3200);
  });

  it('holds the last minute of silence only, writing what is older as it goes', async () => {
    for (const stop of ['late', 'in time'] as const) {
      const { encoder, batches } = movingEncoder();
      const sink = new RecordingSink(`r-quiet-${stop}`, 8000, encoder, writer, 0);
      sink.feed(0, new Int16Array(8000).fill(5));
      sink.afterLastStream = true;
      for (let second = 1; second <= 90; second += 1) sink.feed(second * 8000, new Int16Array(8000));
      expect(batches.reduce((sum, batch) => sum + batch.length, 0)).toBe(8000 * 31);
      sink.schedule(stop === 'late' ? 8000 : 8000 * 91, 'stop');
      sink.feed(8000 * 91, new Int16Array(800));
      // Late, at 1 s: the minute held is taken back, the 30 s before it written already.
      expect((await sink.finish()).durationMs, stop).toBe(stop === 'late' ? 31_000 : 91_000);
    }
  });

  it('writes silence as it comes while a stream is in the mix: a late stop cannot take it back', async () => {
    const { encoder, batches } = movingEncoder();
    const sink = new RecordingSink('r-live', 8000, encoder, writer, 0);
    sink.feed(0, new Int16Array(8000).fill(5));
    for (let from = 8000; from < 16_000; from += 800) sink.feed(from, new Int16Array(800));
    expect(batches.reduce((sum, batch) => sum + batch.length, 0)).toBe(16_000);
    sink.schedule(8000, 'stop');
    sink.feed(16_000, new Int16Array(800));
    expect((await sink.finish()).durationMs).toBe(2000);
  });
});
