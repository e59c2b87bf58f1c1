import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { loopSource, type AudioSource } from './audio-source.js';
import { parseWav } from './wav-file.js';

const run = promisify(execFile);

const SPEECH_RATE = 16000;
/** Silence between one speaker's turn and the next. */
const GAP_MS = 400;
const VOICES = ['en-us+m3', 'en-us+f3', 'en-us+m1', 'en-us+f2', 'en-us+m5', 'en-us+f4', 'en-us+m7', 'en-us+f1', 'en-us+m2', 'en-us+f5'];

function line(participant: number): string {
  if (participant === 0) return 'Thank you for calling. This is a simulated call, and it is being recorded.';
  if (participant === 1) return 'Hello. I would like to check on the status of my order, please.';
  return `Hi, customer ${participant} here. I can hear both of you clearly.`;
}

export function espeakAvailable(): boolean {
  const probe = spawnSync('espeak-ng', ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/**
 * A conversation: each participant says a line in turn, silent during the others' turns,
 * round after round. 16 kHz, so the recording is wideband.
 */
export async function speechSources(count: number): Promise<AudioSource[]> {
  const lines = await Promise.all(Array.from({ length: count }, (_, i) => speak(line(i), VOICES[i % VOICES.length]!)));
  const gap = (SPEECH_RATE * GAP_MS) / 1000;
  const round = lines.reduce((total, samples) => total + samples.length + gap, 0);
  let offset = 0;
  return lines.map((samples, i) => {
    const track = new Int16Array(round);
    track.set(samples, offset);
    offset += samples.length + gap;
    return loopSource(track, SPEECH_RATE, `speech (espeak-ng ${VOICES[i % VOICES.length]})`);
  });
}

async function speak(text: string, voice: string): Promise<Int16Array> {
  const { stdout } = await run('espeak-ng', ['--stdout', '-v', voice, '-s', '160', text], { encoding: 'buffer', maxBuffer: 64 << 20 });
  const audio = parseWav(stdout);
  if (audio.channels !== 1) throw new Error(`espeak-ng wrote ${audio.channels} channels`);
  return resample(audio.samples, audio.sampleRate, SPEECH_RATE);
}

/** Linear interpolation: rough, but espeak-ng's 22 050 Hz voice has little above 8 kHz to alias. */
export function resample(samples: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return samples;
  const out = new Int16Array(Math.floor((samples.length * to) / from));
  const step = from / to;
  for (let i = 0; i < out.length; i++) {
    const position = i * step;
    const left = Math.floor(position);
    const right = Math.min(left + 1, samples.length - 1);
    const fraction = position - left;
    out[i] = Math.round(samples[left]! * (1 - fraction) + samples[right]! * fraction);
  }
  return out;
}
