/**
 * Streaming MP3 (mono, CBR) with LAME compiled to WebAssembly, from the
 * `wasm-media-encoders` package.
 *
 * Costs worth knowing: each LAME instance lives in its own WebAssembly
 * instance with 16 MiB of linear memory. Finished instances are kept for the
 * next recordings instead of instantiating anew (lame-pool.ts). A finished
 * instance gets the state of a freshly configured one copied in (see
 * lame-snapshot.ts) rather than being configured again.
 */
import { acquireLame, newLame, releaseLame } from './lame-pool.js';
import { restoreLame, snapshotLame, type Lame, type LameSettings, type LameSnapshot } from './lame-snapshot.js';
import { mp3FrameBytes, mp3InfoFrame } from './mp3-info-tag.js';
import type { TelephonyRate } from './resample.js';

/** Constant bitrates (kbit/s) LAME offers at 8 kHz (MPEG-2.5) and 16 kHz (MPEG-2). */
export type Mp3Bitrate = 8 | 16 | 24 | 32 | 40 | 48 | 64 | 80 | 96 | 112 | 128 | 160;

export interface Mp3EncoderOptions {
  sampleRate: TelephonyRate;
  /** kbit/s, constant; default 32 at 8 kHz, 48 at 16 kHz, twice that in stereo. */
  bitrate?: Mp3Bitrate;
  /** 1 (the default) or 2; stereo samples come interleaved. */
  channels?: 1 | 2;
}

/**
 * Per setting, its proven snapshot, or null where configuring is the only way; a promise, so the
 * recordings that start while it is being taken wait for it instead of each taking their own.
 */
const snapshots = new Map<string, Promise<LameSnapshot | null>>();

/** A LAME instance in the state `settings` give it; throws what LAME's configure throws. */
async function configuredLame(settings: LameSettings): Promise<Lame> {
  const key = `${settings.sampleRate}/${settings.channels}/${settings.bitrate}`;
  let taking = snapshots.get(key);
  if (!taking) {
    taking = takeSnapshot(settings);
    snapshots.set(key, taking);
    taking.catch(() => snapshots.delete(key)); // the next recording tries again
  }
  const snapshot = await taking;
  const lame = await acquireLame();
  if (snapshot && restoreLame(lame, snapshot)) return lame;
  try {
    lame.configure(settings);
  } catch (error) {
    releaseLame(lame);
    throw error;
  }
  return lame;
}

/** Takes the snapshot of `settings` on two new instances, which then join the pool (the configured one only once its snapshot is proven). */
async function takeSnapshot(settings: LameSettings): Promise<LameSnapshot | null> {
  const [fresh, untouched] = await Promise.all([newLame(), newLame()]);
  releaseLame(untouched);
  let snapshot: LameSnapshot | undefined;
  try {
    snapshot = snapshotLame(fresh, untouched, settings);
  } catch {
    // LAME refused the settings: configuring says so to the caller.
  }
  if (snapshot) releaseLame(fresh);
  return snapshot ?? null;
}

const EMPTY = new Uint8Array(0);

export class Mp3Encoder {
  readonly sampleRate: TelephonyRate;
  readonly bitrate: Mp3Bitrate;
  readonly channels: 1 | 2;
  private lame: Lame | undefined;
  private samplesIn = 0;
  private bytesOut = 0;
  /** Float copy of the input, one per channel, reused across calls. */
  private pcm: Float32Array[];

  private constructor(lame: Lame, sampleRate: TelephonyRate, bitrate: Mp3Bitrate, channels: 1 | 2) {
    this.lame = lame;
    this.sampleRate = sampleRate;
    this.bitrate = bitrate;
    this.channels = channels;
    this.pcm = Array.from({ length: channels }, () => new Float32Array(1024));
  }

  static async create(options: Mp3EncoderOptions): Promise<Mp3Encoder> {
    const { sampleRate } = options;
    if (sampleRate !== 8000 && sampleRate !== 16000) throw new RangeError(`unsupported sample rate ${sampleRate}`);
    const channels = options.channels ?? 1;
    const bitrate = options.bitrate ?? (((sampleRate === 8000 ? 32 : 48) * channels) as Mp3Bitrate);
    let lame: Lame;
    try {
      lame = await configuredLame({ channels, sampleRate, bitrate, outputSampleRate: sampleRate });
    } catch (error) {
      throw new RangeError(`LAME refused ${sampleRate} Hz at ${bitrate} kbit/s: ${(error as Error).message}`);
    }
    return new Mp3Encoder(lame, sampleRate, bitrate, channels);
  }

  /** Encodes the next samples; returns the MP3 bytes ready so far (often empty: LAME works in 576-sample granules). The result is the caller's. */
  encode(samples: Int16Array): Uint8Array {
    const lame = this.lame;
    if (!lame) throw new Error('Mp3Encoder already finished');
    const channels = this.channels;
    const n = samples.length / channels;
    if (n === 0) return EMPTY;
    if (this.pcm[0]!.length < n) this.pcm = this.pcm.map((pcm) => new Float32Array(Math.max(n, pcm.length * 2)));
    for (let c = 0; c < channels; c++) {
      const pcm = this.pcm[c]!;
      for (let i = 0; i < n; i++) pcm[i] = samples[i * channels + c]! / 32768;
    }
    // The library returns a view into wasm memory, overwritten by its next call: copy.
    const out = lame.encode(this.pcm.map((pcm) => pcm.subarray(0, n)));
    this.samplesIn += n;
    this.bytesOut += out.length;
    return out.length ? out.slice() : EMPTY;
  }

  /**
   * The Info frame for what was encoded so far: written first as a placeholder, then over the
   * placeholder once finished, so decoders trim the encoder's delay and padding.
   */
  infoFrame(): Uint8Array {
    const frameBytes = mp3FrameBytes(this.sampleRate, this.bitrate);
    return mp3InfoFrame({
      sampleRate: this.sampleRate,
      bitrate: this.bitrate,
      frames: Math.floor(this.bytesOut / frameBytes),
      bytes: this.bytesOut + frameBytes,
      samples: this.samplesIn,
      channels: this.channels,
    });
  }

  /** Flushes the last frames. The encoder cannot be used afterwards. */
  finish(): Uint8Array {
    const lame = this.lame;
    if (!lame) throw new Error('Mp3Encoder already finished');
    this.lame = undefined;
    const out = lame.finalize();
    this.bytesOut += out.length;
    const tail = out.length ? out.slice() : EMPTY;
    releaseLame(lame);
    return tail;
  }
}
