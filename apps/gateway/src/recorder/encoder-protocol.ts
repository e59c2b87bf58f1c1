import type { EncoderSpec } from './audio-encoder.js';

/** Messages to an encoder thread, posted in batches. `id` names one recording's encoder on that thread. */
export type EncoderRequest =
  | { type: 'open'; id: number; spec: EncoderSpec }
  | { type: 'encode'; id: number; samples: Int16Array }
  | { type: 'end'; id: number }
  | { type: 'discard'; id: number }
  /** Answered once every request before it has been handled. */
  | { type: 'sync'; id: number };

/** Messages from an encoder thread, in the order of the requests they answer. */
export type EncoderReply =
  | { type: 'bytes'; id: number; bytes: Uint8Array }
  | { type: 'ended'; id: number; header: Uint8Array }
  | { type: 'failed'; id: number; message: string }
  | { type: 'synced'; id: number };
