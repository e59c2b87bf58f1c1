import { wavHeader } from '@mpc/media';
import { describe, expect, it } from 'vitest';
import { loopSource, toneSource } from './audio-source.js';
import { resample } from './speech.js';
import { parseWav } from './wav-file.js';

function wav(samples: number[], sampleRate = 8000, dataBytes = samples.length * 2): Uint8Array {
  const pcm = new Uint8Array(new Int16Array(samples).buffer);
  const file = new Uint8Array(44 + pcm.length);
  file.set(wavHeader({ sampleRate, channels: 1, dataBytes }));
  file.set(pcm, 44);
  return file;
}

describe('parseWav', () => {
  it('reads 16-bit PCM', () => {
    expect(parseWav(wav([1, -2, 32767], 16000))).toEqual({ sampleRate: 16000, channels: 1, samples: new Int16Array([1, -2, 32767]) });
  });

  it('reads a streamed file, whose data size is not filled in, to its end', () => {
    expect(parseWav(wav([5, 6, 7], 8000, 0x7ffff000)).samples).toEqual(new Int16Array([5, 6, 7]));
  });

  it('refuses what is not 16-bit PCM WAV', () => {
    expect(() => parseWav(new TextEncoder().encode('ID3 not a wav file'))).toThrow(/not a WAV file/);
    const eightBit = wav([0, 0]);
    new DataView(eightBit.buffer).setUint16(34, 8, true);
    expect(() => parseWav(eightBit)).toThrow(/8-bit PCM; only 16-bit PCM/);
  });
});

describe('audio sources', () => {
  it('loops samples across frame boundaries', () => {
    const source = loopSource(new Int16Array([1, 2, 3]), 8000, 'three samples');
    const frame = source.frame(1);
    expect(frame).toHaveLength(160);
    // Frame 1 starts at sample 160, which is 160 % 3 = 1 into the loop.
    expect([...frame.subarray(0, 4)]).toEqual([2, 3, 1, 2]);
  });

  it('continues a tone from one frame to the next without a seam', () => {
    const source = toneSource(440);
    const joined = [...source.frame(0), ...source.frame(1)];
    const whole = [...toneSource(440).frame(0), ...toneSource(440).frame(1)];
    expect(joined).toEqual(whole);
    expect(Math.max(...joined)).toBeGreaterThan(3000);
  });

  it('resamples espeak-ng\'s 22 050 Hz to 16 kHz', () => {
    const out = resample(new Int16Array(22050).fill(1000), 22050, 16000);
    expect(out).toHaveLength(16000);
    expect(out.every((sample) => sample === 1000)).toBe(true);
  });
});
