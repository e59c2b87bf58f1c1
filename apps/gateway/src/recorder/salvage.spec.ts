import { mp3FrameBytes, mp3InfoFrame, wavHeader } from '@mpc/media';
import { describe, expect, it } from 'vitest';
import { salvage } from './salvage.js';

const wavPlaceholder = wavHeader({ sampleRate: 8000, channels: 1, dataBytes: 0 });
const mp3Placeholder = mp3InfoFrame({ sampleRate: 8000, bitrate: 32, frames: 0, bytes: 0, samples: 0 });

describe('salvaging a file cut off by a crash', () => {
  it('keeps the whole samples of a WAV and writes its real sizes', () => {
    const found = salvage('wav', wavPlaceholder, 44 + 16001);
    expect(found).toMatchObject({ keep: 44 + 16000, sampleRate: 8000, durationMs: 1000 });
    expect(Buffer.from(found!.header).readUInt32LE(40)).toBe(16000);
  });

  it('keeps the whole frames of an MP3 and writes an Info frame that trims the codec delay', () => {
    const frame = mp3FrameBytes(8000, 32);
    const found = salvage('mp3', mp3Placeholder, frame * 31 + 100);
    expect(found).toMatchObject({ keep: frame * 31, sampleRate: 8000 });
    // 30 frames of 576 samples, less LAME's delay (576) and the decoder's (529).
    expect(found!.durationMs).toBeCloseTo(((30 * 576 - 1105) / 8000) * 1000, 6);
    expect(Buffer.from(found!.header).readUInt32BE(21)).toBe(30);
  });

  it('takes the true length of an MP3 finished already (its Info frame written) from that frame, not from its frame count', () => {
    const frame = mp3FrameBytes(8000, 32);
    const samples = 30 * 576 - 576 - 400;
    const finished = mp3InfoFrame({ sampleRate: 8000, bitrate: 32, frames: 30, bytes: frame * 31, samples });
    const found = salvage('mp3', finished, frame * 31);
    expect(found).toMatchObject({ keep: frame * 31, sampleRate: 8000, durationMs: (samples / 8000) * 1000 });
    expect(Buffer.from(found!.header).equals(Buffer.from(finished))).toBe(true);
  });

  it('keeps whole frames of every channel of a multichannel WAV and of a stereo MP3', () => {
    const wav = salvage('wav', wavHeader({ sampleRate: 16000, channels: 3, dataBytes: 0 }), 44 + 6 * 16000 + 5);
    expect(wav).toMatchObject({ keep: 44 + 6 * 16000, sampleRate: 16000, durationMs: 1000 });
    expect(Buffer.from(wav!.header).readUInt16LE(22)).toBe(3);

    const frame = mp3FrameBytes(8000, 64);
    const stereo = mp3InfoFrame({ sampleRate: 8000, bitrate: 64, frames: 0, bytes: 0, samples: 0, channels: 2 });
    const mp3 = salvage('mp3', stereo, frame * 11);
    expect(mp3).toMatchObject({ keep: frame * 11, sampleRate: 8000 });
    // Stereo side information is 17 bytes, so the tag's frame count sits 8 bytes later than in mono.
    expect(Buffer.from(mp3!.header).readUInt32BE(29)).toBe(10);
    expect(mp3!.header[3]! >> 6).toBe(0);
  });

  it.each([
    ['a WAV with a header only', 'wav', wavPlaceholder, 44],
    ['an MP3 with its Info frame only', 'mp3', mp3Placeholder, 288],
    ['an MP3 shorter than the codec delay', 'mp3', mp3Placeholder, 288 * 2],
    ['an empty file', 'wav', new Uint8Array(0), 0],
    ['a file that is not what it claims', 'mp3', wavPlaceholder, 10_000],
  ] as const)('finds nothing usable in %s', (_case, format, head, size) => {
    expect(salvage(format, head, size)).toBeUndefined();
  });
});
