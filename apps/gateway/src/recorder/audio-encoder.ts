import { Mp3Encoder, WavEncoder } from '@mpc/media';

export type AudioFormat = 'mp3' | 'wav';
export type AudioRate = 8000 | 16000;

/** What a recording's file holds: MP3 has at most two channels; WAV any number, interleaved. */
export interface EncoderSpec {
  format: AudioFormat;
  sampleRate: AudioRate;
  channels: number;
}

/** Where an encoder puts its bytes, in order: the recording's file. */
export type EncodedOutput = (bytes: Uint8Array) => void;

/**
 * What the recorder needs of an encoder. The bytes of what it is given reach its output in order,
 * at once or later (an encoder on another thread), beginning with the format's header.
 */
export interface AudioEncoder {
  readonly sampleRate: AudioRate;
  readonly channels: number;
  /** The first error, after which nothing more is encoded. */
  readonly failure: Error | undefined;
  /** Encodes the samples (interleaved, for several channels), which the encoder may keep: the caller must not reuse them. */
  encode(samples: Int16Array): void;
  /** Flushes the last bytes to the output; resolves with the final header to write over the first one. */
  end(): Promise<Uint8Array>;
  /** Drops the encoder without flushing. */
  discard(): void;
}

export interface EncoderFactory {
  create(spec: EncoderSpec, output: EncodedOutput): Promise<AudioEncoder>;
  close(): Promise<void>;
  /** How far behind the audio handed over the encoding is, in ms (encoders on other threads can fall behind). */
  lagMs?(): number;
}

/** MP3 at a constant bit rate suited to speech: 32 kbit/s at 8 kHz, 48 kbit/s at 16 kHz, per channel. */
export const MP3_BITRATE_KBPS = { 8000: 32, 16000: 48 } as const;

/** A format's encoder, synchronous, on the caller's thread. */
export interface FormatEncoder {
  begin(): Uint8Array;
  encode(samples: Int16Array): Uint8Array;
  /** The last bytes, and the final header to write over the first bytes. */
  end(): { tail: Uint8Array; header: Uint8Array };
  /** Gives back what the encoder holds (a pooled LAME instance). */
  release(): void;
}

export async function createFormatEncoder({ format, sampleRate, channels }: EncoderSpec): Promise<FormatEncoder> {
  if (format === 'wav') {
    const wav = new WavEncoder({ sampleRate, channels });
    return {
      begin: () => wav.start(),
      encode: (samples) => wav.encode(samples),
      end: () => {
        const { trailer, header } = wav.finish();
        return { tail: trailer, header };
      },
      release: () => undefined,
    };
  }
  if (channels !== 1 && channels !== 2) throw new RangeError(`MP3 holds one or two channels, not ${channels}`);
  const mp3 = await Mp3Encoder.create({ sampleRate, channels, bitrate: (MP3_BITRATE_KBPS[sampleRate] * channels) as 32 | 48 | 64 | 96 });
  let ended = false;
  return {
    // An Info frame first, rewritten at the end with the counts that let decoders trim LAME's delay and padding.
    begin: () => mp3.infoFrame(),
    encode: (samples) => mp3.encode(samples),
    end: () => {
      ended = true;
      const tail = mp3.finish();
      return { tail, header: mp3.infoFrame() };
    },
    release: () => {
      if (!ended) mp3.finish();
      ended = true;
    },
  };
}

/**
 * Makes and drops one MP3 encoder of each mono rate, so the first recordings find LAME's configured
 * states ready to copy (taking one costs ~0.2 s, once per thread and setting: see lame-snapshot.ts).
 */
export async function prewarmMp3Settings(): Promise<void> {
  for (const sampleRate of [8000, 16000] as const) (await createFormatEncoder({ format: 'mp3', sampleRate, channels: 1 })).release();
}

/** Encodes on the calling thread: for tests, and where a worker thread would only add copying. */
export const inlineEncoders: EncoderFactory = {
  async create(spec, output) {
    const encoder = await createFormatEncoder(spec);
    output(encoder.begin());
    let failure: Error | undefined;
    return {
      sampleRate: spec.sampleRate,
      channels: spec.channels,
      get failure() {
        return failure;
      },
      encode(samples) {
        if (failure) return;
        try {
          output(encoder.encode(samples));
        } catch (error) {
          failure = error as Error;
        }
      },
      async end() {
        if (failure) throw failure;
        const { tail, header } = encoder.end();
        output(tail);
        return header;
      },
      discard: () => encoder.release(),
    };
  },
  close: async () => undefined,
};
