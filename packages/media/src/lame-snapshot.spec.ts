import { describe, expect, it } from 'vitest';
import { createMp3Encoder } from 'wasm-media-encoders';
import { heapBreak, restoreLame, snapshotLame, unwritten, type Lame, type LameSettings } from './lame-snapshot.js';
import { Mp3Encoder } from './mp3.js';
import { generateTone } from './tone.js';

const SETTINGS: LameSettings[] = [
  { channels: 1, sampleRate: 8000, bitrate: 32, outputSampleRate: 8000 },
  { channels: 1, sampleRate: 16000, bitrate: 48, outputSampleRate: 16000 },
  { channels: 2, sampleRate: 8000, bitrate: 64, outputSampleRate: 8000 },
  { channels: 2, sampleRate: 16000, bitrate: 96, outputSampleRate: 16000 },
];

function tone(settings: LameSettings, ms: number, frequency: number): Float32Array[] {
  return Array.from({ length: settings.channels }, (_, c) => {
    const pcm = generateTone({ frequency: frequency + 100 * c, sampleRate: settings.sampleRate as 8000 | 16000, durationMs: ms, amplitude: 0.4 });
    return Float32Array.from(pcm, (sample) => sample / 32768);
  });
}

function encodeWith(lame: Lame, pcm: Float32Array[], chunk: number): Uint8Array {
  const out: number[] = [];
  for (let at = 0; at < pcm[0]!.length; at += chunk) out.push(...lame.encode(pcm.map((channel) => channel.subarray(at, at + chunk))));
  out.push(...lame.finalize());
  return Uint8Array.from(out);
}

async function freshlyConfigured(settings: LameSettings): Promise<Lame> {
  const lame = await createMp3Encoder();
  lame.configure(settings);
  return lame;
}

describe('heapBreak', () => {
  const words = (values: number[]) => new Uint8Array(Int32Array.from(values).buffer);

  it('finds the one word that moved from the heap start to past everything written', () => {
    const untouched = words([0, 7, 100, 0, 0, 0, 0, 0]);
    const configured = words([0, 7, 28, 5, 5, 5, 0, 0]); // written up to byte 24; the break word says 28
    expect(heapBreak(untouched, configured)).toBe(28);
  });

  it('takes the furthest where several words fit, and answers undefined when none does', () => {
    expect(heapBreak(words([4, 4, 0, 0, 0, 0, 0, 0]), words([20, 24, 1, 1, 0, 0, 0, 0]))).toBe(24);
    expect(heapBreak(words([0, 100, 0, 0]), words([0, 100, 3, 0]))).toBeUndefined();
    expect(heapBreak(words([0, 8, 0, 0]), words([0, 99, 3, 0]))).toBeUndefined(); // past the memory's end
  });
});

describe('unwritten', () => {
  it('finds the longest stretch zero before and after, below the heap, less 64 KiB on either side', () => {
    const untouched = new Uint8Array(600_000);
    const configured = new Uint8Array(600_000);
    configured[100] = 1; // static data
    configured[400_000] = 1; // the top of the stack
    untouched[450_000] = 1; // written and cleared again, in the heap
    expect(unwritten(untouched, configured, 420_000)).toEqual([101 + 65_536, 400_000 - 65_536]);
    expect(unwritten(untouched, configured, 100_000)).toEqual([0, 0]); // nothing that long
  });
});

describe('LAME snapshots', () => {
  it('restore a used instance to an encoder that writes the very bytes of a freshly configured one', async () => {
    for (const settings of SETTINGS) {
      const used = await createMp3Encoder();
      const snapshot = snapshotLame(used, await createMp3Encoder(), settings);
      expect(snapshot, `snapshot of ${JSON.stringify(settings)}`).toBeDefined();
      // The stack's depths are left out: most of what would be copied.
      expect(snapshot!.skipped[1] - snapshot!.skipped[0]).toBeGreaterThan(4_000_000);
      // The instance encodes other settings and lengths first, so its memory holds all sorts of leftovers.
      for (const [other, ms] of [[SETTINGS[(SETTINGS.indexOf(settings) + 1) % SETTINGS.length]!, 3000], [settings, 700]] as const) {
        used.configure(other);
        encodeWith(used, tone(other, ms, 300), 1234);
      }
      for (const [ms, frequency, chunk] of [[1000, 440, 160], [2500, 1000, 320], [90, 700, 17]] as const) {
        const pcm = tone(settings, ms, frequency);
        const expected = encodeWith(await freshlyConfigured(settings), pcm, chunk);
        expect(restoreLame(used, snapshot!)).toBe(true);
        expect(Buffer.from(encodeWith(used, pcm, chunk)).equals(Buffer.from(expected)), `${JSON.stringify(settings)} ${ms} ms`).toBe(true);
      }
    }
  });

  it('gives pooled Mp3Encoders the output of fresh ones, setting after setting', async () => {
    for (let round = 0; round < 3; round++) {
      for (const settings of SETTINGS) {
        const samples = tone(settings, 400 + 300 * round, 500 + 50 * round);
        const interleaved = new Int16Array(samples[0]!.length * settings.channels);
        for (let i = 0; i < samples[0]!.length; i++) {
          for (let c = 0; c < settings.channels; c++) interleaved[i * settings.channels + c] = Math.round(samples[c]![i]! * 32768);
        }
        const encoder = await Mp3Encoder.create({ sampleRate: settings.sampleRate as 8000 | 16000, channels: settings.channels, bitrate: settings.bitrate as 32 });
        const frame = (settings.sampleRate / 50) * settings.channels;
        const chunks: number[] = [];
        for (let at = 0; at < interleaved.length; at += frame) chunks.push(...encoder.encode(interleaved.subarray(at, at + frame)));
        chunks.push(...encoder.finish());
        // The same samples through a LAME configured from scratch, the way Mp3Encoder converts them.
        const floats = samples.map((channel) => Float32Array.from(channel, (_, i) => Math.round(channel[i]! * 32768) / 32768));
        const expected = encodeWith(await freshlyConfigured(settings), floats, settings.sampleRate / 50);
        expect(Buffer.from(chunks).equals(Buffer.from(expected)), `round ${round} ${JSON.stringify(settings)}`).toBe(true);
      }
    }
  });
});
