import { decodePcm16le } from '@mpc/media';

export interface PcmAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved when there are several channels. */
  samples: Int16Array;
}

/**
 * Reads a RIFF/WAVE file of 16-bit PCM. Streamed files (espeak-ng --stdout, ffmpeg to a pipe)
 * carry a zero or 0xFFFFFFFF data size: then the data runs to the end of the file.
 */
export function parseWav(bytes: Uint8Array): PcmAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  if (bytes.length < 12 || ascii(0) !== 'RIFF' || ascii(8) !== 'WAVE') throw new Error('not a WAV file (no RIFF/WAVE header)');

  let format: { tag: number; channels: number; sampleRate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = ascii(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new Error('truncated fmt chunk');
      format = {
        tag: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
      // WAVE_FORMAT_EXTENSIBLE keeps the real format tag in its sub-format GUID.
      if (format.tag === 0xfffe && size >= 40) format.tag = view.getUint16(body + 24, true);
    } else if (id === 'data') {
      if (!format) throw new Error('data chunk before the fmt chunk');
      if (format.tag !== 1 || format.bits !== 16) {
        throw new Error(`${format.bits}-bit ${format.tag === 1 ? 'PCM' : `format ${format.tag}`}; only 16-bit PCM is supported`);
      }
      const end = size === 0 || size === 0xffffffff || body + size > bytes.length ? bytes.length : body + size;
      // Copied, so the samples are aligned and independent of the file buffer.
      const samples = decodePcm16le(bytes.slice(body, end));
      return { sampleRate: format.sampleRate, channels: format.channels, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new Error('no data chunk');
}
