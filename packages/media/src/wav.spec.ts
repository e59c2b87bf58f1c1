import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTone } from './tone.js';
import { WAV_HEADER_BYTES, WavEncoder, wavHeader } from './wav.js';

interface ParsedWav {
  riffSize: number;
  format: number;
  channels: number;
  sampleRate: number;
  byteRate: number;
  blockAlign: number;
  bitsPerSample: number;
  dataSize: number;
  dataOffset: number;
}

/** A small independent reader: walks the RIFF chunks instead of trusting fixed offsets. */
function parseWav(bytes: Uint8Array): ParsedWav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('not RIFF/WAVE');
  const parsed: Partial<ParsedWav> = { riffSize: view.getUint32(4, true) };
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    if (id === 'fmt ') {
      parsed.format = view.getUint16(at + 8, true);
      parsed.channels = view.getUint16(at + 10, true);
      parsed.sampleRate = view.getUint32(at + 12, true);
      parsed.byteRate = view.getUint32(at + 16, true);
      parsed.blockAlign = view.getUint16(at + 20, true);
      parsed.bitsPerSample = view.getUint16(at + 22, true);
    } else if (id === 'data') {
      parsed.dataSize = size;
      parsed.dataOffset = at + 8;
      break;
    }
    at += 8 + size + (size & 1);
  }
  return parsed as ParsedWav;
}

function has(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0 || spawnSync(tool, ['-version'], { stdio: 'ignore' }).status === 0;
}

const dir = mkdtempSync(join(tmpdir(), 'mpc-media-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Streams 2 s of tone through WavEncoder in 20 ms frames, then patches the header as a file writer would. */
function buildFile(sampleRate: number, channels: number): { file: Uint8Array; samples: Int16Array } {
  const encoder = new WavEncoder({ sampleRate, channels });
  const samples = generateTone({ frequency: 440, sampleRate: sampleRate * channels, durationMs: 2000, amplitude: 0.5 });
  const chunks = [encoder.start()];
  const frame = (sampleRate / 50) * channels;
  for (let i = 0; i < samples.length; i += frame) chunks.push(encoder.encode(samples.subarray(i, i + frame)));
  const { trailer, header } = encoder.finish();
  chunks.push(trailer);
  const file = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    file.set(c, offset);
    offset += c.length;
  }
  file.set(header, 0);
  return { file, samples };
}

describe('WAV', () => {
  it('writes a canonical 44-byte header', () => {
    const header = wavHeader({ sampleRate: 8000, channels: 1, dataBytes: 32000 });
    expect(header).toHaveLength(WAV_HEADER_BYTES);
    expect(parseWav(header)).toEqual({
      riffSize: 36 + 32000,
      format: 1,
      channels: 1,
      sampleRate: 8000,
      byteRate: 16000,
      blockAlign: 2,
      bitsPerSample: 16,
      dataSize: 32000,
      dataOffset: 44,
    });
    const stereo = parseWav(wavHeader({ sampleRate: 16000, channels: 2, dataBytes: 64 }));
    expect(stereo).toMatchObject({ channels: 2, byteRate: 64000, blockAlign: 4, riffSize: 100, dataSize: 64 });
  });

  it('saturates sizes past 4 GiB and refuses nonsense', () => {
    expect(parseWav(wavHeader({ sampleRate: 8000, channels: 1, dataBytes: 2 ** 33 }))).toMatchObject({ riffSize: 0xffffffff, dataSize: 0xffffffff });
    expect(() => wavHeader({ sampleRate: 0, channels: 1, dataBytes: 0 })).toThrow(RangeError);
    expect(() => wavHeader({ sampleRate: 8000, channels: 0, dataBytes: 0 })).toThrow(RangeError);
    expect(() => new WavEncoder({ sampleRate: 8000, channels: 1.5 })).toThrow(RangeError);
  });

  it('streams: zero sizes first, little-endian samples, the final header at the end', () => {
    const encoder = new WavEncoder({ sampleRate: 16000 });
    expect(parseWav(encoder.start())).toMatchObject({ riffSize: 36, dataSize: 0, sampleRate: 16000, channels: 1 });
    expect(Array.from(encoder.encode(Int16Array.of(1, -2, 0x1234)))).toEqual([1, 0, 0xfe, 0xff, 0x34, 0x12]);
    encoder.encode(new Int16Array(10));
    expect(encoder.dataBytes).toBe(26);
    const { trailer, header } = encoder.finish();
    expect(trailer).toHaveLength(0);
    expect(parseWav(header)).toMatchObject({ riffSize: 62, dataSize: 26 });
  });

  it('builds a file whose samples read back exactly', () => {
    const { file, samples } = buildFile(8000, 1);
    const parsed = parseWav(file);
    expect(parsed.dataSize).toBe(samples.length * 2);
    expect(parsed.dataOffset + parsed.dataSize).toBe(file.length);
    const body = file.slice(parsed.dataOffset);
    expect(Array.from(new Int16Array(body.buffer))).toEqual(Array.from(samples));
  });

  it.skipIf(!has('sox'))('is read by sox --i', () => {
    for (const [rate, channels] of [[8000, 1], [16000, 2]] as const) {
      const path = join(dir, `sox-${rate}-${channels}.wav`);
      writeFileSync(path, buildFile(rate, channels).file);
      const info = spawnSync('sox', ['--i', path], { encoding: 'utf8' });
      expect(info.status, info.stderr).toBe(0);
      expect(info.stdout).toMatch(new RegExp(`Channels\\s*: ${channels}`));
      expect(info.stdout).toMatch(new RegExp(`Sample Rate\\s*: ${rate}\\b`));
      expect(info.stdout).toMatch(/Precision\s*: 16-bit/);
      expect(info.stdout).toMatch(/Duration\s*: 00:00:02\.00 = /);
      expect(info.stdout).toMatch(/Signed Integer PCM/);
    }
  });

  it.skipIf(!has('ffprobe'))('is read by ffprobe', () => {
    const path = join(dir, 'ffprobe.wav');
    writeFileSync(path, buildFile(16000, 1).file);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate,channels,duration', '-of', 'json', path], { encoding: 'utf8' });
    expect(probe.status, probe.stderr).toBe(0);
    const stream = JSON.parse(probe.stdout).streams[0];
    expect(stream).toMatchObject({ codec_name: 'pcm_s16le', sample_rate: '16000', channels: 1 });
    expect(Number(stream.duration)).toBeCloseTo(2, 3);
  });
});
