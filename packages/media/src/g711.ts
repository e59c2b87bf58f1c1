/**
 * ITU-T G.711 μ-law (the PCMU of telephony), table driven in both directions.
 *
 * Decoding uses a 256-entry table; encoding a 65536-entry table indexed by the
 * 16-bit two's-complement pattern of the sample (64 KiB, built once at load), so
 * both directions are one typed-array load per sample.
 */

const BIAS = 0x84;
const CLIP = 32635;

function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function linearToUlaw(sample: number): number {
  let magnitude = sample;
  let sign = 0;
  if (magnitude < 0) {
    magnitude = -magnitude;
    sign = 0x80;
  }
  if (magnitude > CLIP) magnitude = CLIP;
  magnitude += BIAS;
  // exponent = index of the highest set bit of magnitude >> 7 (0 when none).
  const exponent = 31 - Math.clz32(magnitude >> 7 || 1);
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** μ-law byte → linear int16 sample. */
export const MULAW_DECODE_TABLE: Int16Array = (() => {
  const table = new Int16Array(256);
  for (let i = 0; i < 256; i++) table[i] = ulawToLinear(i);
  return table;
})();

/** Indexed by `sample & 0xffff`. */
const ENCODE_TABLE: Uint8Array = (() => {
  const table = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = linearToUlaw(i >= 32768 ? i - 65536 : i);
  return table;
})();

/** Decodes G.711 μ-law bytes into 16-bit linear samples (one sample per byte). */
export function decodeMulaw(bytes: Uint8Array): Int16Array {
  const n = bytes.length;
  const out = new Int16Array(n);
  const table = MULAW_DECODE_TABLE;
  for (let i = 0; i < n; i++) out[i] = table[bytes[i]];
  return out;
}

/** Encodes 16-bit linear samples as G.711 μ-law bytes (one byte per sample). */
export function encodeMulaw(samples: Int16Array): Uint8Array {
  const n = samples.length;
  const out = new Uint8Array(n);
  const table = ENCODE_TABLE;
  for (let i = 0; i < n; i++) out[i] = table[samples[i] & 0xffff];
  return out;
}
