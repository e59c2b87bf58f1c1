import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Whether ffmpeg is here to decode MP3 (a test-only tool, from Debian's packages). CI installs it;
 * elsewhere the MP3 checks are skipped with a notice.
 */
export const canDecodeMp3 = (() => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI) throw new Error('ffmpeg is missing: CI must install it (apt-get install ffmpeg)');
    console.warn('MP3 decoding checks skipped: install ffmpeg (apt-get install ffmpeg) to run them.');
    return false;
  }
})();

export interface DecodedAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved, for several channels. */
  samples: Int16Array;
  durationMs: number;
}

/** One channel of the audio, on its own. */
export function channelOf(audio: DecodedAudio, channel: number): DecodedAudio {
  const samples = new Int16Array(audio.samples.length / audio.channels);
  for (let i = 0; i < samples.length; i += 1) samples[i] = audio.samples[i * audio.channels + channel]!;
  return { sampleRate: audio.sampleRate, channels: 1, samples, durationMs: audio.durationMs };
}

function decodeWav(bytes: Buffer): DecodedAudio {
  if (bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  const channels = bytes.readUInt16LE(22);
  const sampleRate = bytes.readUInt32LE(24);
  const dataBytes = bytes.readUInt32LE(40);
  if (bytes.readUInt32LE(4) !== bytes.length - 8 || dataBytes !== bytes.length - 44) throw new Error('WAV sizes do not match the file');
  const samples = new Int16Array(dataBytes / 2);
  for (let i = 0; i < samples.length; i += 1) samples[i] = bytes.readInt16LE(44 + i * 2);
  return { sampleRate, channels, samples, durationMs: (samples.length * 1000) / channels / sampleRate };
}

/**
 * Decodes an MP3 with ffmpeg (a test-only tool) to 16-bit PCM at its own rate. From a file, not a
 * pipe: ffmpeg honours the Info frame's end padding only when it reads a file.
 */
function decodeMp3(bytes: Buffer): DecodedAudio {
  const dir = mkdtempSync(join(tmpdir(), 'mpc-mp3-'));
  const path = join(dir, 'recording.mp3');
  writeFileSync(path, bytes);
  const probe = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=sample_rate,channels', '-of', 'csv=p=0', path]).toString().trim();
  const [sampleRate, channels] = probe.split(',').map(Number) as [number, number];
  const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 's16le', '-ac', String(channels), '-ar', String(sampleRate), 'pipe:1'], { maxBuffer: 1 << 28 });
  rmSync(dir, { recursive: true, force: true });
  const samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length));
  return { sampleRate, channels, samples, durationMs: (samples.length * 1000) / channels / sampleRate };
}

export function decodeRecording(bytes: Buffer, format: 'mp3' | 'wav'): DecodedAudio {
  return format === 'wav' ? decodeWav(bytes) : decodeMp3(bytes);
}

/**
 * Amplitude (fraction of full scale) of one frequency in a window, by Goertzel over a Hann window,
 * so neighbouring tones a few hundred hertz away do not leak into it.
 */
function windowedToneLevel(samples: Int16Array, sampleRate: number, frequency: number): number {
  const n = samples.length;
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let previous = 0;
  let beforePrevious = 0;
  for (let i = 0; i < n; i += 1) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const current = (samples[i]! / 32768) * hann + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  const power = previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
  // A full-scale sine gives a Goertzel magnitude of n/2, halved again by the Hann window's gain.
  return Math.sqrt(Math.max(0, power)) / (n / 4);
}

/** Tone level of each `windowMs` window of the audio. */
export function toneProfile(audio: DecodedAudio, frequency: number, windowMs = 20): number[] {
  const size = Math.round((audio.sampleRate * windowMs) / 1000);
  const levels: number[] = [];
  for (let start = 0; start + size <= audio.samples.length; start += size) {
    levels.push(windowedToneLevel(audio.samples.subarray(start, start + size), audio.sampleRate, frequency));
  }
  return levels;
}

/** Whether the tone is present (level above `threshold`) in [fromMs, toMs) of the audio, window by window. */
export function tonePresence(audio: DecodedAudio, frequency: number, fromMs: number, toMs: number, threshold = 0.05): boolean[] {
  return toneProfile(audio, frequency).slice(Math.floor(fromMs / 20), Math.floor(toMs / 20)).map((level) => level > threshold);
}
