/**
 * Streaming WAV (RIFF, 16-bit PCM, 1..N interleaved channels). The header
 * goes first with zero sizes; once the stream ends, `finish()` hands back the
 * final 44-byte header for the caller to write over offset 0.
 */
import { encodePcm16le } from './pcm.js';

export const WAV_HEADER_BYTES = 44;

export interface WavFormat {
  sampleRate: number;
  channels: number;
  /** Bytes of sample data that follow the header. */
  dataBytes: number;
}

const MAX_U32 = 0xffffffff;

function writeAscii(view: DataView, offset: number, text: string): void {
  for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
}

/**
 * A canonical 44-byte header: RIFF size = 36 + dataBytes, "fmt " chunk of 16
 * bytes (PCM, 16 bits), "data" size = dataBytes. Sizes past 4 GiB saturate
 * at 0xFFFFFFFF, as readers expect for oversized files.
 */
export function wavHeader({ sampleRate, channels, dataBytes }: WavFormat): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`invalid sample rate ${sampleRate}`);
  if (!Number.isInteger(channels) || channels < 1 || channels > 65535) throw new RangeError(`invalid channel count ${channels}`);
  if (!Number.isInteger(dataBytes) || dataBytes < 0) throw new RangeError(`invalid data size ${dataBytes}`);
  const header = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(header.buffer);
  const blockAlign = channels * 2;
  writeAscii(view, 0, 'RIFF');
  view.setUint32(4, Math.min(36 + dataBytes, MAX_U32), true);
  writeAscii(view, 8, 'WAVE');
  writeAscii(view, 12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, 16, true);
  writeAscii(view, 36, 'data');
  view.setUint32(40, Math.min(dataBytes, MAX_U32), true);
  return header;
}

export interface WavEncoderOptions {
  sampleRate: number;
  /** Default 1; samples of several channels come interleaved. */
  channels?: number;
}

export class WavEncoder {
  readonly sampleRate: number;
  readonly channels: number;
  private bytes = 0;

  constructor({ sampleRate, channels = 1 }: WavEncoderOptions) {
    wavHeader({ sampleRate, channels, dataBytes: 0 }); // validates
    this.sampleRate = sampleRate;
    this.channels = channels;
  }

  /** Sample data bytes encoded so far. */
  get dataBytes(): number {
    return this.bytes;
  }

  /** The header to write first, with zero sizes (fixed by `finish().header`). */
  start(): Uint8Array {
    return wavHeader({ sampleRate: this.sampleRate, channels: this.channels, dataBytes: 0 });
  }

  /** Little-endian bytes of the (interleaved) samples, to append after the header. */
  encode(samples: Int16Array): Uint8Array {
    const bytes = encodePcm16le(samples);
    this.bytes += bytes.length;
    return bytes;
  }

  /** `trailer` (empty for WAV) goes at the end; `header` replaces the 44 bytes at offset 0. */
  finish(): { trailer: Uint8Array; header: Uint8Array } {
    return {
      trailer: new Uint8Array(0),
      header: wavHeader({ sampleRate: this.sampleRate, channels: this.channels, dataBytes: this.bytes }),
    };
  }
}
