import type { EncoderSpec } from './audio-encoder.js';

/** Messages to an encoder thread, posted in batches. `id` names one recording's encoder on that thread. */
export type EncoderRequest =
  | { type: 'open'; id: number; spec: EncoderSpec }
  | { type: 'encode'; id: number; samples: Int16Array }
  | { type: 'end'; id: number }
  | { type: 'discard'; id: number }
  /**
   * Answered once every request before it has been handled. With `collectGarbage`, and where the
   * process exposes gc (the benchmarks do), garbage goes first, so memory read afterwards is what
   * the encoders hold.
   */
  | { type: 'sync'; id: number; collectGarbage?: boolean };

/** Messages from an encoder thread, in the order of the requests they answer. */
export type EncoderReply =
  | { type: 'bytes'; id: number; bytes: Uint8Array }
  | { type: 'ended'; id: number; header: Uint8Array }
  | { type: 'failed'; id: number; message: string }
  | { type: 'synced'; id: number };

/**
 * Copies every view a batch carries into one buffer and points the views at it, so the batch
 * crosses to the other thread as one transferred buffer: structured cloning keeps views of one
 * buffer as views of one buffer. Moving many small buffers one by one costs far more.
 */
export function packViews<T extends Int16Array | Uint8Array>(views: T[], make: (length: number) => T): ArrayBuffer {
  const pool = make(views.reduce((sum, view) => sum + view.length, 0));
  let at = 0;
  for (let i = 0; i < views.length; i += 1) {
    const view = views[i]!;
    pool.set(view, at);
    views[i] = pool.subarray(at, at + view.length) as T;
    at += view.length;
  }
  return pool.buffer as ArrayBuffer;
}
