import { describe, expect, it } from 'vitest';
import { Resampler } from './resample.js';
import { generateTone, toneLevel } from './tone.js';

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Feeds `input` in frames of the given lengths (cycled), returns the concatenated output. */
function stream(resampler: Resampler, input: Int16Array, lengths: number[]): Int16Array {
  const parts: Int16Array[] = [];
  for (let i = 0, k = 0; i < input.length; k++) {
    const n = lengths[k % lengths.length];
    parts.push(resampler.process(input.subarray(i, i + n)));
    i += n;
  }
  return concat(parts);
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

describe('Resampler', () => {
  it('returns the input itself at the same rate', () => {
    const input = new Int16Array(160);
    expect(new Resampler(8000, 8000).process(input)).toBe(input);
    expect(new Resampler(16000, 16000).process(input)).toBe(input);
  });

  it('rejects other rates', () => {
    expect(() => new Resampler(44100 as 8000, 16000)).toThrow(RangeError);
  });

  it('8k → 16k keeps a 1 kHz tone, its amplitude and phase, seamlessly across 20 ms frames', () => {
    const amplitude = 0.5;
    const input = generateTone({ frequency: 1000, sampleRate: 8000, durationMs: 1000, amplitude });
    const resampler = new Resampler(8000, 16000);
    const out = stream(resampler, input, [160]);
    expect(out).toHaveLength(16000);
    expect(resampler.delay).toBe(15);
    // Level over windows straddling frame boundaries (every 320 output samples).
    for (let start = 480; start + 320 <= out.length; start += 320) {
      const level = toneLevel(out.subarray(start - 160, start + 160), 16000, 1000);
      expect(level).toBeGreaterThan(amplitude * 0.9);
      expect(level).toBeLessThan(amplitude * 1.1);
    }
    // Sample by sample against the ideal tone delayed by the filter: no click anywhere after the warm-up.
    const ideal = generateTone({ frequency: 1000, sampleRate: 16000, durationMs: 1000, amplitude, startSample: -15 });
    let worst = 0;
    for (let m = 64; m < out.length; m++) worst = Math.max(worst, Math.abs(out[m] - ideal[m]));
    expect(worst).toBeLessThan(0.01 * amplitude * 32767);
  });

  it('16k → 8k keeps a 1 kHz tone seamlessly, whatever the frame lengths (odd ones too)', () => {
    const amplitude = 0.5;
    const input = generateTone({ frequency: 1000, sampleRate: 16000, durationMs: 1000, amplitude });
    const framed = stream(new Resampler(16000, 8000), input, [320]);
    const ragged = stream(new Resampler(16000, 8000), input, [317, 1, 2, 161, 159, 320, 7]);
    const whole = new Resampler(16000, 8000).process(input);
    expect(framed).toHaveLength(8000);
    expect(Array.from(ragged)).toEqual(Array.from(whole));
    expect(Array.from(framed)).toEqual(Array.from(whole));
    for (let start = 160; start + 160 <= framed.length; start += 160) {
      const level = toneLevel(framed.subarray(start - 80, start + 80), 8000, 1000);
      expect(level).toBeGreaterThan(amplitude * 0.9);
      expect(level).toBeLessThan(amplitude * 1.1);
    }
    // Output n is input time 2n, delayed by 15 input samples.
    const ideal = generateTone({ frequency: 1000, sampleRate: 16000, durationMs: 1000, amplitude, startSample: -15 });
    let worst = 0;
    for (let n = 32; n < framed.length; n++) worst = Math.max(worst, Math.abs(framed[n] - ideal[2 * n]));
    expect(worst).toBeLessThan(0.01 * amplitude * 32767);
  });

  it('8k → 16k is the same streamed in odd pieces as in one go', () => {
    const input = generateTone({ frequency: 700, sampleRate: 8000, durationMs: 500, amplitude: 0.8 });
    const ragged = stream(new Resampler(8000, 16000), input, [1, 159, 3, 160, 77]);
    expect(Array.from(ragged)).toEqual(Array.from(new Resampler(8000, 16000).process(input)));
  });

  it('16k → 8k attenuates a 6 kHz tone (which would alias to 2 kHz) by more than 20 dB', () => {
    const input = generateTone({ frequency: 6000, sampleRate: 16000, durationMs: 500, amplitude: 0.9 });
    const out = stream(new Resampler(16000, 8000), input, [320]);
    const settled = out.subarray(32);
    const attenuationDb = 20 * Math.log10(rms(settled) / rms(input));
    expect(attenuationDb).toBeLessThan(-20);
    expect(toneLevel(settled.subarray(0, 3200), 8000, 2000)).toBeLessThan(0.09);
  });

  it('keeps DC exactly at unity gain both ways and saturates instead of wrapping', () => {
    const dc = new Int16Array(400).fill(-32768);
    const up = new Resampler(8000, 16000).process(dc);
    const down = new Resampler(16000, 8000).process(dc);
    for (let i = 40; i < up.length; i++) expect(up[i]).toBe(-32768);
    for (let i = 20; i < down.length; i++) expect(down[i]).toBe(-32768);
    // A full-scale square wave overshoots through the filter (Gibbs, ~9%): it must clamp, never wrap.
    const square = Int16Array.from({ length: 640 }, (_, i) => ((i >> 4) & 1 ? 32767 : -32768));
    const filtered = new Resampler(16000, 8000).process(square);
    let checked = 0;
    for (let n = 20; n < filtered.length; n++) {
      const t = 2 * n - 15; // input time of output n, after the filter delay
      const inHalf = t % 16;
      if (inHalf < 4 || inHalf > 12) continue; // near an edge the output is legitimately in between
      const high = ((t >> 4) & 1) === 1;
      if (high) expect(filtered[n]).toBeGreaterThan(30000);
      else expect(filtered[n]).toBeLessThan(-30000);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
    expect(Math.max(...filtered)).toBe(32767);
  });

  it('writes into a caller buffer and resets its memory', () => {
    const resampler = new Resampler(8000, 16000);
    const input = generateTone({ frequency: 1000, sampleRate: 8000, durationMs: 20, amplitude: 0.5 });
    const buffer = new Int16Array(400);
    const first = resampler.process(input, buffer);
    expect(first.buffer).toBe(buffer.buffer);
    expect(first).toHaveLength(320);
    const copy = Int16Array.from(first);
    resampler.reset();
    expect(Array.from(resampler.process(input))).toEqual(Array.from(copy));
    expect(() => resampler.process(input, new Int16Array(10))).toThrow(RangeError);
  });
});
