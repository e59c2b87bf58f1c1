import { LAME_ENCODER_DELAY, MP3_SAMPLES_PER_FRAME, mp3FrameBytes, mp3InfoFrame, readMp3InfoFrame, wavHeader } from '@mpc/media';

/** How to finish a file cut off by a crash: the bytes to keep, the header to write, what it holds. */
export interface Salvage {
  keep: number;
  header: Uint8Array;
  sampleRate: 8000 | 16000;
  durationMs: number;
}

const MP3_BITRATES = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
/** The decoder's own delay, which the Info frame's encoder delay does not include. */
const DECODER_DELAY = 529;

/**
 * Reads what the recorder wrote before the process died. WAV: whole samples after the header.
 * MP3: whole frames after the placeholder Info frame, or the counts of a finished one. Undefined
 * when nothing usable is there.
 */
export function salvage(format: 'mp3' | 'wav', head: Uint8Array, size: number): Salvage | undefined {
  return format === 'wav' ? salvageWav(head, size) : salvageMp3(head, size);
}

function salvageWav(head: Uint8Array, size: number): Salvage | undefined {
  if (head.length < 44) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  const channels = view.getUint16(22, true);
  const sampleRate = view.getUint32(24, true);
  if ((sampleRate !== 8000 && sampleRate !== 16000) || channels < 1) return undefined;
  const frameBytes = 2 * channels;
  const dataBytes = Math.floor((size - 44) / frameBytes) * frameBytes;
  if (dataBytes <= 0) return undefined;
  return { keep: 44 + dataBytes, header: wavHeader({ sampleRate, channels, dataBytes }), sampleRate, durationMs: (dataBytes / frameBytes / sampleRate) * 1000 };
}

function salvageMp3(head: Uint8Array, size: number): Salvage | undefined {
  if (head.length < 4 || head[0] !== 0xff || (head[1]! & 0xe0) !== 0xe0) return undefined;
  const sampleRate = ((head[1]! >> 3) & 0b11) === 0b00 ? 8000 : 16000;
  const bitrate = MP3_BITRATES[head[2]! >> 4];
  const channels = head[3]! >> 6 === 0b11 ? 1 : 2;
  if (!bitrate) return undefined;
  const frameBytes = mp3FrameBytes(sampleRate, bitrate);
  // Finished already (kept whole in a spool until storage took it): its Info frame has the true counts.
  const finished = readMp3InfoFrame(head);
  if (finished && finished.frames > 0 && finished.bytes === size) {
    return { keep: size, header: head.slice(0, frameBytes), sampleRate, durationMs: (finished.samples / sampleRate) * 1000 };
  }
  const frames = Math.floor((size - frameBytes) / frameBytes);
  const samples = frames * MP3_SAMPLES_PER_FRAME - LAME_ENCODER_DELAY - DECODER_DELAY;
  if (frames <= 0 || samples <= 0) return undefined;
  const keep = frameBytes * (frames + 1);
  return {
    keep,
    header: mp3InfoFrame({ sampleRate, bitrate, frames, bytes: keep, samples, channels }),
    sampleRate,
    durationMs: (samples / sampleRate) * 1000,
  };
}
