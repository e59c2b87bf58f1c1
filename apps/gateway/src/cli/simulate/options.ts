import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export type FileFormat = 'mp3' | 'wav';

export interface SimulateOptions {
  url: string;
  authId: string;
  authToken: string;
  participants: number;
  /** Call length: how long the streams run, in seconds. */
  seconds: number;
  format: FileFormat;
  /** Absolute paths of the WAV files to stream, empty for generated audio. */
  wav: string[];
  speech: boolean;
  /** Absolute path of the directory the recording is saved in. */
  out: string;
  /** Seconds after the recording starts. */
  pauseAt: number;
  resumeAt: number;
}

export type ParseResult = { kind: 'help' } | { kind: 'run'; options: SimulateOptions };

/** A bad command line: the message says what is wrong; the caller adds the usage hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** The gateway admits at most 10 participants per MPC. */
export const MAX_PARTICIPANTS = 10;

export const USAGE = `Usage: mpc-simulate [options]
       pnpm simulate -- [options]

Runs a whole multiparty call against a running gateway: creates an MPC, adds
participants, streams their audio in real time, records the call with a pause,
downloads the recording and prints a summary.

Options:
  --url URL            the gateway (default ${DEFAULT_URL})
  --auth-id ID         account auth_id (default: $MPC_AUTH_ID)
  --auth-token TOKEN   account auth_token (default: $MPC_AUTH_TOKEN)
  --participants N     participants, 1-${MAX_PARTICIPANTS}: an Agent, then Customers (default 3)
  --seconds S          call length in seconds (default 10)
  --format mp3|wav     recording format (default mp3)
  --wav FILE           stream this WAV file (8 or 16 kHz, mono, 16-bit); repeat for
                       one file per participant (files are reused when there are
                       more participants, and looped when shorter than the call)
  --speech             speak with espeak-ng (taking turns) instead of tones
                       (default: tones of 440, 660, 880, ... Hz)
  --out DIR            where the recording is saved (default ./simulated-recordings)
  --pause-at S         pause the recording S seconds in (default 40% of the call)
  --resume-at S        resume it S seconds in (default 60% of the call)
  -h, --help           show this help

A local receiver on 127.0.0.1 is given as recording_callback_url, so callbacks
arrive only from a gateway on this machine that may call loopback addresses
(CALLBACK_ALLOW_PRIVATE=loopback, as under pnpm start); a gateway that refuses
it records without callbacks.`;

/**
 * Reads the command line. Relative paths are taken from `cwd` (the directory the user ran the
 * command in, which under `pnpm simulate` is not the process's).
 */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): ParseResult {
  let parsed;
  try {
    parsed = parseArgs({
      // `pnpm simulate -- --seconds 6` may hand the `--` on.
      args: argv[0] === '--' ? argv.slice(1) : [...argv],
      options: {
        url: { type: 'string' },
        'auth-id': { type: 'string' },
        'auth-token': { type: 'string' },
        participants: { type: 'string' },
        seconds: { type: 'string' },
        format: { type: 'string' },
        wav: { type: 'string', multiple: true },
        speech: { type: 'boolean' },
        out: { type: 'string' },
        'pause-at': { type: 'string' },
        'resume-at': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) return { kind: 'help' };

  const url = parseUrl(values.url ?? DEFAULT_URL);
  const authId = values['auth-id'] ?? env.MPC_AUTH_ID ?? '';
  const authToken = values['auth-token'] ?? env.MPC_AUTH_TOKEN ?? '';
  const missing = [!authId && '--auth-id (or MPC_AUTH_ID)', !authToken && '--auth-token (or MPC_AUTH_TOKEN)'].filter(Boolean);
  if (missing.length > 0) {
    throw new UsageError(
      `missing credentials: ${missing.join(' and ')}. The gateway prints an auth_id and auth_token on its first start; ` +
        'ACCOUNTS=auth_id:auth_token sets them.',
    );
  }

  const participants = parseNumber('--participants', values.participants ?? '3', { integer: true, min: 1, max: MAX_PARTICIPANTS });
  const seconds = parseNumber('--seconds', values.seconds ?? '10', { min: 1, max: 4 * 3600 });
  const format = values.format ?? 'mp3';
  if (format !== 'mp3' && format !== 'wav') throw new UsageError(`--format must be mp3 or wav, not "${format}"`);
  const wav = (values.wav ?? []).map((file) => resolve(cwd, file));
  const speech = values.speech ?? false;
  if (speech && wav.length > 0) throw new UsageError('--speech and --wav cannot be combined');

  const pauseAt = values['pause-at'] === undefined ? round(seconds * 0.4) : parseNumber('--pause-at', values['pause-at'], { min: 0 });
  const resumeAt = values['resume-at'] === undefined ? round(seconds * 0.6) : parseNumber('--resume-at', values['resume-at'], { min: 0 });
  if (!(pauseAt > 0 && pauseAt < resumeAt && resumeAt < seconds)) {
    throw new UsageError(`need 0 < --pause-at < --resume-at < --seconds, got ${pauseAt} < ${resumeAt} < ${seconds}`);
  }

  return {
    kind: 'run',
    options: { url, authId, authToken, participants, seconds, format, wav, speech, out: resolve(cwd, values.out ?? 'simulated-recordings'), pauseAt, resumeAt },
  };
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url is not a URL: "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be http or https: "${value}"`);
  return url.href.replace(/\/+$/, '');
}

function parseNumber(name: string, value: string, { integer = false, min, max = Infinity }: { integer?: boolean; min: number; max?: number }): number {
  const number = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(number) || (integer && !Number.isInteger(number))) {
    throw new UsageError(`${name} must be ${integer ? 'a whole number' : 'a number'}, not "${value}"`);
  }
  if (number < min || number > max) throw new UsageError(`${name} must be between ${min} and ${max}, not ${value}`);
  return number;
}

/** Millisecond precision, so 40% of 6 s reads 2.4 rather than 2.4000000000000004. */
function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
