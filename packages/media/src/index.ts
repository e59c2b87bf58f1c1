export { decodeMulaw, encodeMulaw, MULAW_DECODE_TABLE } from './g711.js';
export { decodePcm16le, encodePcm16le } from './pcm.js';
export { LOW_PASS_TAPS, Resampler, type TelephonyRate } from './resample.js';
export { Mixer, type MixerOptions, type MixerSourceOptions, type PushResult, type SourceStats } from './mixer.js';
export { WAV_HEADER_BYTES, WavEncoder, wavHeader, type WavEncoderOptions, type WavFormat } from './wav.js';
export { MP3_POOL_TRIM_MS, mp3PoolStats, prewarmMp3Encoders } from './lame-pool.js';
export { Mp3Encoder, type Mp3Bitrate, type Mp3EncoderOptions } from './mp3.js';
export { generateTone, toneLevel, type ToneOptions } from './tone.js';
export { LAME_ENCODER_DELAY, MP3_SAMPLES_PER_FRAME, mp3FrameBytes, mp3InfoFrame, readMp3InfoFrame, type Mp3InfoTag } from './mp3-info-tag.js';
