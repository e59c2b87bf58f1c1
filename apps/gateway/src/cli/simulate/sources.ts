import { toneFrequency, toneSource, wavSource, type AudioSource } from './audio-source.js';
import type { SimulateOptions } from './options.js';
import { espeakAvailable, speechSources } from './speech.js';

/**
 * What each participant streams: the --wav files in turn (reused when there are more
 * participants than files), espeak-ng speech with --speech, else a tone each.
 */
export async function chooseSources(options: Pick<SimulateOptions, 'participants' | 'wav' | 'speech'>, notice: (message: string) => void): Promise<AudioSource[]> {
  const { participants, wav, speech } = options;
  if (wav.length > 0) {
    const files = await Promise.all(wav.map((path) => wavSource(path)));
    return Array.from({ length: participants }, (_, i) => files[i % files.length]!);
  }
  if (speech) {
    if (espeakAvailable()) return speechSources(participants);
    notice('--speech: espeak-ng is not installed (apt-get install espeak-ng); streaming tones instead');
  }
  return Array.from({ length: participants }, (_, i) => toneSource(toneFrequency(i)));
}
