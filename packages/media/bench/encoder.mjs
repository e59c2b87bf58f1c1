// Times the package's MP3 encoder (LAME in WebAssembly) against the native
// `lame` CLI on one hour (by default) of deterministic, speech-like 8 kHz audio.
//
//   pnpm --filter @mpc/media build && node packages/media/bench/encoder.mjs [seconds]
//
// benchEncoder() resolves to { wasmMs, lameMs, ratio, realtimeFactor, ... }:
// ratio = wasmMs / lameMs (null when `lame` is not installed), realtimeFactor =
// seconds of audio encoded per second of wall time by the wasm encoder.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Mp3Encoder } from '../dist/index.js';

const RATE = 8000;
const FRAME = RATE / 50; // 20 ms, as the media stream delivers it
const LOOP_SECONDS = 60;

/**
 * 60 s of voiced, speech-like sound: a gliding 90–190 Hz fundamental with its
 * harmonics up to 3.4 kHz shaped by two moving formants, syllables at ~4 Hz,
 * pauses between phrases, and a little noise. Deterministic (fixed LCG seed).
 */
export function speechLike(seconds = LOOP_SECONDS) {
  const n = seconds * RATE;
  const out = new Int16Array(n);
  let seed = 0x12345678;
  const noise = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 31 - 1;
  };
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const f0 = 140 + 35 * Math.sin(2 * Math.PI * 0.7 * t) + 15 * Math.sin(2 * Math.PI * 3.1 * t);
    phase += (2 * Math.PI * f0) / RATE;
    if (phase > 2 * Math.PI) phase -= 2 * Math.PI;
    const formant1 = 500 + 300 * Math.sin(2 * Math.PI * 2.3 * t);
    const formant2 = 1500 + 700 * Math.sin(2 * Math.PI * 1.7 * t + 1);
    let voiced = 0;
    for (let k = 1; k * f0 < 3400; k++) {
      const f = k * f0;
      const gain = 1 / (1 + ((f - formant1) / 150) ** 2) + 0.6 / (1 + ((f - formant2) / 200) ** 2) + 0.02;
      voiced += gain * Math.sin(k * phase);
    }
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 4.2 * t)) ** 0.6;
    const phrase = (t % 6) < 4.2 ? 1 : 0; // ~4 s of talk, ~2 s of pause
    const v = 4800 * syllable * phrase * voiced + 150 * noise();
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
  }
  return out;
}

function lameAvailable() {
  return spawnSync('lame', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function writeRaw(path, loop, totalSamples) {
  const stream = createWriteStream(path);
  const bytes = new Uint8Array(loop.buffer, loop.byteOffset, loop.byteLength);
  for (let written = 0; written < totalSamples; written += loop.length) {
    const count = Math.min(loop.length, totalSamples - written);
    if (!stream.write(bytes.subarray(0, count * 2))) await new Promise((resolve) => stream.once('drain', resolve));
  }
  await new Promise((resolve, reject) => stream.end((error) => (error ? reject(error) : resolve())));
}

export async function benchEncoder({ seconds = 3600 } = {}) {
  const loop = speechLike(Math.min(seconds, LOOP_SECONDS));
  const totalSamples = seconds * RATE;

  // Package encoder, fed 20 ms frames like a live recording.
  const createStart = performance.now();
  const encoder = await Mp3Encoder.create({ sampleRate: RATE, bitrate: 32 });
  const createMs = performance.now() - createStart;
  let wasmBytes = 0;
  const start = performance.now();
  for (let done = 0; done < totalSamples; done += FRAME) {
    const at = done % loop.length;
    wasmBytes += encoder.encode(loop.subarray(at, Math.min(at + FRAME, loop.length, at + totalSamples - done))).length;
  }
  wasmBytes += encoder.finish().length;
  const wasmMs = performance.now() - start;

  // Native LAME on the same samples.
  let lameMs = null;
  let lameBytes = null;
  let lame = 'unavailable';
  if (lameAvailable()) {
    const dir = mkdtempSync(join(tmpdir(), 'mpc-media-bench-'));
    try {
      const input = join(dir, 'in.raw');
      const output = join(dir, 'out.mp3');
      await writeRaw(input, loop, totalSamples);
      const args = ['--silent', '-r', '-s', '8', '--bitwidth', '16', '--signed', '--little-endian', '-m', 'm', '-b', '32', '--cbr', '--resample', '8', input, output];
      const lameStart = performance.now();
      const run = spawnSync('lame', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      lameMs = performance.now() - lameStart;
      if (run.status !== 0) throw new Error(`lame failed: ${run.stderr}`);
      lameBytes = statSync(output).size;
      lame = spawnSync('lame', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].trim();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
  return {
    seconds,
    wasmMs: round(wasmMs),
    lameMs: round(lameMs),
    ratio: lameMs === null ? null : Math.round((wasmMs / lameMs) * 100) / 100,
    realtimeFactor: Math.round(seconds / (wasmMs / 1000)),
    createMs: round(createMs),
    wasmBytes,
    lameBytes,
    lame,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = process.argv[2] ? Number(process.argv[2]) : undefined;
  console.log(await benchEncoder(seconds ? { seconds } : {}));
}
