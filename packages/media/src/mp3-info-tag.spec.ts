import { describe, expect, it } from 'vitest';
import { mp3InfoFrame, readMp3InfoFrame } from './mp3-info-tag.js';

describe('readMp3InfoFrame', () => {
  it('reads back the counts mp3InfoFrame wrote, mono and stereo, at both rates', () => {
    for (const [sampleRate, bitrate, channels] of [
      [8000, 16, 1],
      [16000, 32, 1],
      [16000, 64, 2],
    ] as const) {
      const frame = mp3InfoFrame({ sampleRate, bitrate, frames: 1250, bytes: 1250 * 144 + 144, samples: 1250 * 576 - 576 - 300, channels });
      expect(readMp3InfoFrame(frame), `${sampleRate} Hz, ${channels} channels`).toEqual({ frames: 1250, bytes: 1250 * 144 + 144, samples: 1250 * 576 - 576 - 300 });
    }
  });

  it('finds nothing where the file does not start with an Info frame', () => {
    const audioFrame = new Uint8Array(144);
    audioFrame.set([0xff, 0xf3, 0x28, 0xc4]);
    expect(readMp3InfoFrame(audioFrame)).toBeUndefined();
    expect(readMp3InfoFrame(new Uint8Array([0x49, 0x44, 0x33]))).toBeUndefined();
  });
});
