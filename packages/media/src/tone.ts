/**
 * Tone tools for tests: a sine generator and a Goertzel level meter.
 */

export interface ToneOptions {
  frequency: number;
  sampleRate: number;
  durationMs: number;
  /** Peak as a fraction of full scale: 1 gives ±32767. */
  amplitude: number;
  /** Phase origin: sample n of the result is sample n + startSample of one endless tone, so consecutive chunks join without a seam. Default 0. */
  startSample?: number;
}

/** A sine tone, round(durationMs * sampleRate / 1000) samples long. */
export function generateTone({ frequency, sampleRate, durationMs, amplitude, startSample = 0 }: ToneOptions): Int16Array {
  const length = Math.round((durationMs * sampleRate) / 1000);
  const out = new Int16Array(length);
  const step = (2 * Math.PI * frequency) / sampleRate;
  const peak = amplitude * 32767;
  for (let n = 0; n < length; n++) {
    const v = Math.round(peak * Math.sin(step * (n + startSample)));
    out[n] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/**
 * Level of one frequency in the samples, by the Goertzel algorithm,
 * normalised so a full-scale sine at that frequency reads ~1 and silence 0
 * (amplitude 0.5 reads ~0.5). Best over a whole number of periods; other
 * lengths leak a little.
 */
export function toneLevel(samples: Int16Array, sampleRate: number, frequency: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i] + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  return (2 * Math.sqrt(Math.max(power, 0))) / (n * 32768);
}
