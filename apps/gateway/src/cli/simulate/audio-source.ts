import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { generateTone } from '@mpc/media';
import { parseWav } from './wav-file.js';

export type StreamRate = 8000 | 16000;

/** What one participant says: an endless signal, read 20 ms at a time. */
export interface AudioSource {
  readonly sampleRate: StreamRate;
  /** For the summary, e.g. `tone 440 Hz`. */
  readonly description: string;
  /** Frame `index` (from 0) of the signal: 20 ms of samples. */
  frame(index: number): Int16Array;
}

export const FRAME_MS = 20;

export function samplesPerFrame(rate: StreamRate): number {
  return (rate * FRAME_MS) / 1000;
}

/** Participant i's tone: 440, 660, 880, ... Hz. */
export function toneFrequency(participant: number): number {
  return 440 + 220 * participant;
}

/** A steady sine, low enough that ten of them mixed stay clear of clipping. */
export function toneSource(frequency: number, sampleRate: StreamRate = 8000): AudioSource {
  const size = samplesPerFrame(sampleRate);
  return {
    sampleRate,
    description: `tone ${frequency} Hz`,
    frame: (index) => generateTone({ frequency, sampleRate, durationMs: FRAME_MS, amplitude: 0.1, startSample: index * size }),
  };
}

/** Samples played over and over. */
export function loopSource(samples: Int16Array, sampleRate: StreamRate, description: string): AudioSource {
  if (samples.length === 0) throw new Error(`${description}: no audio`);
  const size = samplesPerFrame(sampleRate);
  return {
    sampleRate,
    description,
    frame: (index) => {
      const out = new Int16Array(size);
      let from = (index * size) % samples.length;
      for (let filled = 0; filled < size; ) {
        const take = Math.min(size - filled, samples.length - from);
        out.set(samples.subarray(from, from + take), filled);
        filled += take;
        from = (from + take) % samples.length;
      }
      return out;
    },
  };
}

/** A WAV file as the stream takes it: 8 or 16 kHz, mono, 16-bit PCM. */
export async function wavSource(path: string): Promise<AudioSource> {
  let audio;
  try {
    audio = parseWav(await readFile(path));
  } catch (error) {
    throw new Error(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { sampleRate, channels, samples } = audio;
  if ((sampleRate !== 8000 && sampleRate !== 16000) || channels !== 1) {
    throw new Error(
      `${path}: ${sampleRate} Hz, ${channels} channel(s); the stream takes 8000 or 16000 Hz mono. ` +
        `Convert it, e.g. sox "${path}" -r 16000 -c 1 -b 16 out.wav`,
    );
  }
  const seconds = (samples.length / sampleRate).toFixed(1);
  return loopSource(samples, sampleRate, `${basename(path)} (${seconds} s, ${sampleRate / 1000} kHz)`);
}
