/**
 * Raw 16-bit little-endian PCM (the L16 the media stream sends at 8 or 16 kHz).
 */

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reads 16-bit little-endian samples. A trailing odd byte is ignored.
 *
 * On a little-endian host with an even `byteOffset` the result is a view over
 * the same memory as `bytes` (no copy): copy it if the caller will reuse
 * `bytes`. Otherwise (odd offset, which Int16Array cannot view, or a
 * big-endian host) the samples are copied.
 */
export function decodePcm16le(bytes: Uint8Array): Int16Array {
  const count = bytes.length >> 1;
  if (LITTLE_ENDIAN_HOST && (bytes.byteOffset & 1) === 0) {
    return new Int16Array(bytes.buffer, bytes.byteOffset, count);
  }
  const out = new Int16Array(count);
  if (LITTLE_ENDIAN_HOST) {
    // Unaligned: one memcpy of the bytes into the aligned result.
    new Uint8Array(out.buffer).set(bytes.subarray(0, count * 2));
  } else {
    for (let i = 0, j = 0; i < count; i++, j += 2) out[i] = (bytes[j] | (bytes[j + 1] << 8)) << 16 >> 16;
  }
  return out;
}

/** Writes samples as 16-bit little-endian bytes into a new buffer (always a copy). */
export function encodePcm16le(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.length * 2));
  } else {
    for (let i = 0, j = 0; i < samples.length; i++, j += 2) {
      const s = samples[i];
      out[j] = s & 0xff;
      out[j + 1] = (s >> 8) & 0xff;
    }
  }
  return out;
}
