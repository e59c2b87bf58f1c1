import { Mp3Encoder, WavEncoder } from '@mpc/media';

/** What the recorder needs of an encoder: a header to begin with, chunks, and the end. */
export interface AudioEncoder {
  readonly sampleRate: number;
  begin(): Uint8Array;
  encode(samples: Int16Array): Uint8Array;
  /** The last bytes, and for WAV the final header to write over the first one. */
  end(): { tail: Uint8Array; header?: Uint8Array };
}

/** MP3 at a constant bit rate suited to speech: 32 kbit/s at 8 kHz, 48 kbit/s at 16 kHz. */
export const MP3_BITRATE_KBPS = { 8000: 32, 16000: 48 } as const;

export async function createEncoder(format: 'mp3' | 'wav', sampleRate: 8000 | 16000): Promise<AudioEncoder> {
  if (format === 'wav') {
    const wav = new WavEncoder({ sampleRate, channels: 1 });
    return {
      sampleRate,
      begin: () => wav.start(),
      encode: (samples) => wav.encode(samples),
      end: () => {
        const { trailer, header } = wav.finish();
        return { tail: trailer, header };
      },
    };
  }
  const mp3 = await Mp3Encoder.create({ sampleRate, bitrate: MP3_BITRATE_KBPS[sampleRate] });
  return {
    sampleRate,
    // An Info frame first, rewritten at the end with the counts that let decoders trim LAME's delay and padding.
    begin: () => mp3.infoFrame(),
    encode: (samples) => mp3.encode(samples),
    end: () => {
      const tail = mp3.finish();
      return { tail, header: mp3.infoFrame() };
    },
  };
}
