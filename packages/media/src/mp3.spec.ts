import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Mp3Encoder } from './mp3.js';
import { generateTone, toneLevel } from './tone.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'mpc-media-mp3-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** LAME's encoder delay (576 + 529 samples): no gapless tag is written, so decoders play it as leading silence. */
const ENCODER_DELAY = 1105;
/** MPEG-2 / 2.5 layer III frames hold 576 samples. */
const FRAME = 576;

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

async function encodeTone(sampleRate: 8000 | 16000, durationMs: number): Promise<{ mp3: Uint8Array; chunks: Uint8Array[] }> {
  const encoder = await Mp3Encoder.create({ sampleRate });
  const tone = generateTone({ frequency: 440, sampleRate, durationMs, amplitude: 0.5 });
  const chunks: Uint8Array[] = [];
  const frame = sampleRate / 50;
  for (let i = 0; i < tone.length; i += frame) chunks.push(encoder.encode(tone.subarray(i, i + frame)));
  chunks.push(encoder.finish());
  return { mp3: concat(chunks), chunks };
}

/** MPEG audio frame headers: sync, and per frame the sample rate and bitrate. */
function frameHeaders(mp3: Uint8Array): Array<{ sampleRate: number; bitrate: number }> {
  const bitrates = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]; // MPEG-2/2.5 layer III
  const rates: Record<number, number[]> = { 0: [11025, 12000, 8000], 2: [22050, 24000, 16000] }; // version bits: 0 = 2.5, 2 = 2
  const out: Array<{ sampleRate: number; bitrate: number }> = [];
  let at = 0;
  while (at + 4 <= mp3.length) {
    if (mp3[at] !== 0xff || (mp3[at + 1] & 0xe0) !== 0xe0) throw new Error(`lost sync at ${at}`);
    const version = (mp3[at + 1] >> 3) & 3;
    const bitrate = bitrates[mp3[at + 2] >> 4];
    const sampleRate = rates[version][(mp3[at + 2] >> 2) & 3];
    const padding = (mp3[at + 2] >> 1) & 1;
    out.push({ sampleRate, bitrate });
    at += Math.floor((72 * bitrate * 1000) / sampleRate) + padding;
  }
  expect(at).toBe(mp3.length);
  return out;
}

describe('Mp3Encoder', () => {
  it('makes CBR mono MP3 at the default bitrates, with copied chunks', async () => {
    for (const [rate, kbps] of [[8000, 32], [16000, 48]] as const) {
      const { mp3, chunks } = await encodeTone(rate, 2000);
      const frames = frameHeaders(mp3);
      expect(new Set(frames.map((f) => f.sampleRate))).toEqual(new Set([rate]));
      expect(new Set(frames.map((f) => f.bitrate))).toEqual(new Set([kbps]));
      // Frames for 2 s + encoder delay, rounded up to whole frames.
      expect(frames.length).toBe(Math.ceil((rate * 2 + ENCODER_DELAY) / FRAME));
      // The library hands out views of one wasm buffer; each chunk must own its memory.
      const nonEmpty = chunks.filter((c) => c.length > 0);
      expect(nonEmpty.length).toBeGreaterThan(10);
      expect(new Set(nonEmpty.map((c) => c.buffer)).size).toBe(nonEmpty.length);
    }
  });

  it('honours an explicit bitrate and refuses other rates', async () => {
    const encoder = await Mp3Encoder.create({ sampleRate: 8000, bitrate: 16 });
    expect(encoder.bitrate).toBe(16);
    const chunks = [encoder.encode(new Int16Array(8000)), encoder.finish()];
    expect(new Set(frameHeaders(concat(chunks)).map((f) => f.bitrate))).toEqual(new Set([16]));
    expect(() => encoder.encode(new Int16Array(10))).toThrow(/finished/);
    await expect(Mp3Encoder.create({ sampleRate: 44100 as 8000 })).rejects.toThrow(RangeError);
  });

  it('runs several encoders at once, and reuses finished ones, without mixing their streams', async () => {
    const [a, b] = await Promise.all([Mp3Encoder.create({ sampleRate: 8000 }), Mp3Encoder.create({ sampleRate: 8000 })]);
    const tone = generateTone({ frequency: 440, sampleRate: 8000, durationMs: 1000, amplitude: 0.5 });
    const silence = new Int16Array(8000);
    const outA = concat([a.encode(tone), a.finish()]);
    const outB = concat([b.encode(silence), b.finish()]);
    const { mp3: again } = await encodeTone(8000, 1000);
    const { mp3: reference } = await encodeTone(8000, 1000);
    expect(outA.length).toBe(outB.length);
    expect(Buffer.from(outA).equals(Buffer.from(outB))).toBe(false);
    expect(Buffer.from(again).equals(Buffer.from(reference))).toBe(true); // a reused instance starts afresh
  });

  it.skipIf(!hasFfmpeg)('decodes (ffmpeg) to the 440 Hz tone, 2 s long once the encoder delay is accounted for', async () => {
    for (const rate of [8000, 16000] as const) {
      const { mp3 } = await encodeTone(rate, 2000);
      const path = join(dir, `tone-${rate}.mp3`);
      writeFileSync(path, mp3);
      const decoded = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 's16le', '-ac', '1', '-ar', String(rate), '-'], { maxBuffer: 1 << 26 });
      expect(decoded.status, decoded.stderr?.toString()).toBe(0);
      const raw = decoded.stdout as Buffer;
      const pcm = new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length - (raw.length & 1)));
      // Where the tone is: first and last samples above a quarter of its peak.
      let first = -1;
      let last = -1;
      for (let i = 0; i < pcm.length; i++) {
        if (Math.abs(pcm[i]) > 0.25 * 0.5 * 32767) {
          if (first < 0) first = i;
          last = i;
        }
      }
      const toneMs = ((last - first) * 1000) / rate;
      expect(Math.abs(toneMs - 2000)).toBeLessThanOrEqual(40);
      expect(Math.abs(first - ENCODER_DELAY)).toBeLessThanOrEqual(rate / 100); // starts after the encoder delay
      // Whole stream: input + delay + padding up to a whole frame.
      const trimmedMs = ((pcm.length - ENCODER_DELAY) * 1000) / rate;
      expect(trimmedMs).toBeGreaterThanOrEqual(2000);
      expect(trimmedMs).toBeLessThan(2000 + (FRAME * 1000) / rate);
      const middle = pcm.subarray(first + rate / 2, first + rate / 2 + rate / 2);
      expect(toneLevel(middle, rate, 440)).toBeGreaterThan(0.4);
      expect(toneLevel(middle, rate, 440)).toBeLessThan(0.6);
      expect(toneLevel(middle, rate, 1000)).toBeLessThan(0.02);
    }
  });

  it.skipIf(!hasFfmpeg)('encodes stereo: each channel keeps its own tone, and the Info frame gives the exact length', async () => {
    for (const rate of [8000, 16000] as const) {
      const encoder = await Mp3Encoder.create({ sampleRate: rate, channels: 2 });
      expect(encoder.bitrate).toBe(rate === 8000 ? 64 : 96);
      const left = generateTone({ frequency: 440, sampleRate: rate, durationMs: 2000, amplitude: 0.5 });
      const right = generateTone({ frequency: 1000, sampleRate: rate, durationMs: 2000, amplitude: 0.5 });
      const interleaved = new Int16Array(left.length * 2);
      for (let i = 0; i < left.length; i++) {
        interleaved[2 * i] = left[i];
        interleaved[2 * i + 1] = right[i];
      }
      const chunks = [encoder.infoFrame()];
      for (let i = 0; i < interleaved.length; i += rate / 25) chunks.push(encoder.encode(interleaved.subarray(i, i + rate / 25)));
      chunks.push(encoder.finish());
      chunks[0] = encoder.infoFrame();
      const path = join(dir, `stereo-${rate}.mp3`);
      writeFileSync(path, concat(chunks));
      const decoded = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 's16le', '-ac', '2', '-ar', String(rate), '-'], { maxBuffer: 1 << 26 });
      expect(decoded.status, decoded.stderr?.toString()).toBe(0);
      const raw = decoded.stdout as Buffer;
      const pcm = new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length - (raw.length & 3)));
      expect(Math.abs(pcm.length / 2 - left.length)).toBeLessThanOrEqual(rate / 100);
      const channel = (c: number) => pcm.filter((_, i) => i % 2 === c).subarray(rate / 2, rate);
      expect(toneLevel(channel(0), rate, 440)).toBeGreaterThan(0.4);
      expect(toneLevel(channel(0), rate, 1000)).toBeLessThan(0.02);
      expect(toneLevel(channel(1), rate, 1000)).toBeGreaterThan(0.4);
      expect(toneLevel(channel(1), rate, 440)).toBeLessThan(0.02);
    }
  });
});
