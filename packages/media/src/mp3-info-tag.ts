/**
 * The "Info" frame LAME puts first in a CBR MP3: frame and byte counts, and the encoder delay
 * and padding that let decoders trim them, so the decoded audio starts and ends where the input
 * did. The streaming encoder cannot write it first (the counts are known only at the end), so a
 * recording begins with a placeholder and gets the final frame written over it.
 */

/** Samples per frame for MPEG-2 and MPEG-2.5 layer III (8 and 16 kHz). */
export const MP3_SAMPLES_PER_FRAME = 576;
/** LAME's own delay; decoders add their 529 samples to it. */
export const LAME_ENCODER_DELAY = 576;

const BITRATE_INDEX: Record<number, number> = { 8: 1, 16: 2, 24: 3, 32: 4, 40: 5, 48: 6, 56: 7, 64: 8, 80: 9, 96: 10, 112: 11, 128: 12, 144: 13, 160: 14 };

export interface Mp3InfoTag {
  sampleRate: 8000 | 16000;
  /** kbit/s. */
  bitrate: number;
  /** Audio frames after the Info frame. */
  frames: number;
  /** Bytes of the whole file, Info frame included. */
  bytes: number;
  /** Samples of input per channel, so the padding at the end can be trimmed. */
  samples: number;
  /** 1 (mono, the default) or 2 (stereo). */
  channels?: 1 | 2;
}

/** Where the Info tag starts: after the 4-byte frame header and the side information (9 bytes mono, 17 stereo). */
const infoTagAt = (mono: boolean) => 4 + (mono ? 9 : 17);
/** Offsets in the Info tag of its flags, frame and byte counts, the LAME tag, and that tag's 12 bits of delay and 12 of padding. */
const TAG = { flags: 4, frames: 8, bytes: 12, lame: 16, delayPadding: 37 } as const;

/** Bytes of one frame at this rate and bit rate (no padding slot is ever needed at 8 or 16 kHz with these rates). */
export function mp3FrameBytes(sampleRate: number, bitrate: number): number {
  return (72 * bitrate * 1000) / sampleRate;
}

export function mp3InfoFrame({ sampleRate, bitrate, frames, bytes, samples, channels = 1 }: Mp3InfoTag): Uint8Array {
  const frameBytes = mp3FrameBytes(sampleRate, bitrate);
  const frame = new Uint8Array(frameBytes);
  const view = new DataView(frame.buffer);
  const version = sampleRate === 8000 ? 0b00 : 0b10; // MPEG-2.5 : MPEG-2
  const header =
    (0x7ff << 21) | (version << 19) | (0b01 << 17) | (1 << 16) | (BITRATE_INDEX[bitrate]! << 12) | (0b10 << 10) | ((channels === 1 ? 0b11 : 0b00) << 6);
  view.setUint32(0, header >>> 0);
  // Side information is left zero: the frame carries no audio.
  const tag = infoTagAt(channels === 1);
  let at = tag;
  const ascii = (text: string) => {
    for (const char of text) frame[at++] = char.charCodeAt(0);
  };
  ascii('Info');
  view.setUint32(tag + TAG.flags, 0x03); // frames and bytes fields present
  view.setUint32(tag + TAG.frames, frames);
  view.setUint32(tag + TAG.bytes, bytes);
  at = tag + TAG.lame;
  ascii('LAME3.100');
  frame[at++] = 0x01; // tag revision 0, CBR
  frame[at++] = Math.round(sampleRate / 2 / 100); // lowpass, in 100 Hz
  at += 8; // replay gain: none
  frame[at++] = 0; // encoding flags, ATH type
  frame[at++] = Math.min(255, bitrate);
  const padding = Math.max(0, Math.min(4095, frames * MP3_SAMPLES_PER_FRAME - LAME_ENCODER_DELAY - samples));
  at = tag + TAG.delayPadding;
  frame[at++] = LAME_ENCODER_DELAY >> 4;
  frame[at++] = ((LAME_ENCODER_DELAY & 0x0f) << 4) | (padding >> 8);
  frame[at++] = padding & 0xff;
  at += 4; // misc, MP3 gain, preset and surround
  view.setUint32(at, bytes);
  return frame;
}

/**
 * The counts of an Info frame as mp3InfoFrame writes it, at the start of `head`: undefined where
 * `head` starts otherwise (a placeholder's counts are zero).
 */
export function readMp3InfoFrame(head: Uint8Array): { frames: number; bytes: number; samples: number } | undefined {
  if (head.length < 4 || head[0] !== 0xff || (head[1]! & 0xe0) !== 0xe0) return undefined;
  const at = infoTagAt(head[3]! >> 6 === 0b11);
  if (head.length < at + TAG.delayPadding + 3 || String.fromCharCode(...head.subarray(at, at + 4)) !== 'Info') return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  const frames = view.getUint32(at + TAG.frames);
  const bytes = view.getUint32(at + TAG.bytes);
  const delayAt = at + TAG.delayPadding;
  const delay = (head[delayAt]! << 4) | (head[delayAt + 1]! >> 4);
  const padding = ((head[delayAt + 1]! & 0x0f) << 8) | head[delayAt + 2]!;
  return { frames, bytes, samples: Math.max(0, frames * MP3_SAMPLES_PER_FRAME - delay - padding) };
}
