import { describe, expect, it } from 'vitest';
import { decodePcm16le, encodePcm16le } from './pcm.js';

describe('PCM 16-bit little-endian', () => {
  it('decodes known bytes', () => {
    const bytes = Uint8Array.of(0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x80, 0x34, 0x12);
    expect(Array.from(decodePcm16le(bytes))).toEqual([0, 1, -1, 32767, -32768, 0x1234]);
  });

  it('encodes known samples', () => {
    const bytes = encodePcm16le(Int16Array.of(0, 1, -1, 32767, -32768, 0x1234));
    expect(Array.from(bytes)).toEqual([0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x80, 0x34, 0x12]);
  });

  it('works at an odd byteOffset by copying', () => {
    const backing = new Uint8Array(9);
    backing.set([0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0x34, 0x12], 1);
    const unaligned = backing.subarray(1);
    expect(unaligned.byteOffset).toBe(1);
    const samples = decodePcm16le(unaligned);
    expect(Array.from(samples)).toEqual([1, -1, -32768, 0x1234]);
    expect(samples.buffer).not.toBe(backing.buffer);
  });

  it('views aligned input without copying', () => {
    const backing = new Uint8Array(8);
    const samples = decodePcm16le(backing.subarray(2, 6));
    expect(samples.buffer).toBe(backing.buffer);
    expect(samples).toHaveLength(2);
  });

  it('ignores a trailing odd byte, aligned or not', () => {
    expect(Array.from(decodePcm16le(Uint8Array.of(0x02, 0x00, 0x03)))).toEqual([2]);
    const backing = Uint8Array.of(0, 0x02, 0x00, 0x03);
    expect(Array.from(decodePcm16le(backing.subarray(1)))).toEqual([2]);
    expect(decodePcm16le(Uint8Array.of(0x05))).toHaveLength(0);
  });

  it('round-trips a subarray of a larger buffer', () => {
    const samples = Int16Array.from({ length: 100 }, (_, i) => (i * 977) % 65536 - 32768);
    const part = samples.subarray(13, 77);
    const bytes = encodePcm16le(part);
    expect(bytes).toHaveLength(128);
    expect(bytes.buffer).not.toBe(samples.buffer);
    expect(Array.from(decodePcm16le(bytes))).toEqual(Array.from(part));
  });
});
