import { describe, expect, it } from 'vitest';
import { decodeMulaw, encodeMulaw, MULAW_DECODE_TABLE } from './g711.js';

describe('G.711 μ-law', () => {
  it('decodes the ITU-T reference points', () => {
    const decoded = decodeMulaw(Uint8Array.of(0xff, 0x7f, 0x00, 0x80, 0xfe, 0x7e, 0xf0, 0x70));
    expect(Array.from(decoded)).toEqual([0, 0, -32124, 32124, 8, -8, 120, -120]);
  });

  it('encodes the reference points', () => {
    const encoded = encodeMulaw(Int16Array.of(0, -1, 32767, -32768, 32124, -32124, 8, -8));
    expect(Array.from(encoded)).toEqual([0xff, 0x7f, 0x80, 0x00, 0x80, 0x00, 0xfe, 0x7e]);
  });

  it('is symmetric and monotonic over the 256 codes', () => {
    for (let b = 0; b < 128; b++) expect(MULAW_DECODE_TABLE[b] + MULAW_DECODE_TABLE[b | 0x80]).toBe(0);
    // 0x80..0xff run from the largest positive value down to 0.
    for (let b = 0x81; b <= 0xff; b++) expect(MULAW_DECODE_TABLE[b]).toBeLessThan(MULAW_DECODE_TABLE[b - 1]);
  });

  it('re-encodes every decoded value to its own code (0x7f, negative zero, becomes 0xff)', () => {
    const codes = new Uint8Array(256).map((_, i) => i);
    const again = encodeMulaw(decodeMulaw(codes));
    for (let b = 0; b < 256; b++) expect(again[b]).toBe(b === 0x7f ? 0xff : b);
  });

  it('round-trips every int16 within half a quantisation step', () => {
    const all = new Int16Array(65536).map((_, i) => i - 32768);
    const back = decodeMulaw(encodeMulaw(all));
    let worstRelative = 0;
    const failures: string[] = [];
    for (let i = 0; i < all.length; i++) {
      const x = all[i];
      const error = Math.abs(back[i] - x);
      // Segment step is 2^(exp+3) for |x|+132 in [2^(exp+7), 2^(exp+8)): error <= half a step <= (|x|+132)/32.
      // Beyond the largest code the value clips to ±32124.
      const ok = Math.abs(x) <= 32124 ? error <= (Math.abs(x) + 132) / 32 : Math.abs(back[i]) === 32124 && Math.sign(back[i]) === Math.sign(x);
      if (!ok && failures.length < 5) failures.push(`${x} -> ${back[i]}`);
      if (Math.abs(x) >= 1024) worstRelative = Math.max(worstRelative, error / Math.abs(x));
    }
    expect(failures).toEqual([]);
    expect(worstRelative).toBeLessThan(0.035);
  });

  it('keeps lengths and handles empty input', () => {
    expect(decodeMulaw(new Uint8Array(0))).toHaveLength(0);
    expect(encodeMulaw(new Int16Array(0))).toHaveLength(0);
    expect(decodeMulaw(new Uint8Array(160))).toHaveLength(160);
  });
});
