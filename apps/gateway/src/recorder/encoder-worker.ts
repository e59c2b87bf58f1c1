import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { prewarmMp3Encoders } from '@mpc/media';
import { createFormatEncoder, prewarmMp3Settings, type FormatEncoder } from './audio-encoder.js';
import { packViews, type EncoderReply, type EncoderRequest } from './encoder-protocol.js';

/**
 * An encoder thread: keeps the encoders of the recordings given to it and answers each request in
 * order. An MP3 encoder is made asynchronously, so each encoder's requests wait on a chain.
 */
const port = parentPort!;

/**
 * Encoding has slack (audio arrives in 100 ms batches and waits in buffers), the event loop has
 * none (the mixing tick, the API): when the cores are busy, this thread gives way to it. Linux
 * sets a nice value per thread, named by its thread id; elsewhere, or when it is not allowed, the
 * thread keeps the process's priority.
 */
const ENCODER_NICE = 10;
try {
  const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(threadId)) setPriority(threadId, ENCODER_NICE);
} catch {
  // not Linux, or not permitted
}
const encoders = new Map<number, Promise<FormatEncoder | undefined>>();

// LAME instances, and their configured states, made before the first recordings need them; more
// instances as the pool runs low. A failure here shows again, and is reported, on a recording.
const SPARE_LAME = 8;
void prewarmMp3Settings()
  .catch(() => undefined)
  .then(() => prewarmMp3Encoders(SPARE_LAME));

/** Replies go back in batches too, once the requests at hand are done. */
let replies: EncoderReply[] = [];

function reply(message: EncoderReply): void {
  if (replies.length === 0) setImmediate(post);
  replies.push(message);
}

function post(): void {
  const batch = replies;
  replies = [];
  const carrying = batch.filter((message) => message.type === 'bytes' || message.type === 'ended');
  const views = carrying.map((message) => (message.type === 'bytes' ? message.bytes : message.header));
  const buffer = packViews(views, (length) => new Uint8Array(length));
  carrying.forEach((message, i) => {
    if (message.type === 'bytes') message.bytes = views[i]!;
    else message.header = views[i]!;
  });
  port.postMessage(batch, [buffer]);
}

function step(id: number, work: (encoder: FormatEncoder) => void): void {
  const previous = encoders.get(id);
  if (!previous) return;
  encoders.set(
    id,
    previous.then((encoder) => {
      if (!encoder) return undefined;
      try {
        work(encoder);
        return encoder;
      } catch (error) {
        encoder.release();
        reply({ type: 'failed', id, message: (error as Error).message });
        return undefined;
      }
    }),
  );
}

/** Requests come in batches: all those of one turn of the main thread's event loop. */
port.on('message', (requests: EncoderRequest[]) => {
  for (const request of requests) handle(request);
});

function handle(request: EncoderRequest): void {
  const { id } = request;
  switch (request.type) {
    case 'open':
      setImmediate(() => void prewarmMp3Encoders(SPARE_LAME));
      encoders.set(
        id,
        createFormatEncoder(request.spec).then(
          (encoder) => {
            reply({ type: 'bytes', id, bytes: encoder.begin() });
            return encoder;
          },
          (error: Error) => {
            reply({ type: 'failed', id, message: error.message });
            return undefined;
          },
        ),
      );
      return;
    case 'encode':
      step(id, (encoder) => {
        const bytes = encoder.encode(request.samples);
        if (bytes.length > 0) reply({ type: 'bytes', id, bytes });
      });
      return;
    case 'end':
      step(id, (encoder) => {
        const { tail, header } = encoder.end();
        if (tail.length > 0) reply({ type: 'bytes', id, bytes: tail });
        reply({ type: 'ended', id, header });
      });
      encoders.delete(id);
      return;
    case 'sync':
      void Promise.all(encoders.values()).then(() => {
        if (request.collectGarbage) (globalThis as { gc?: () => void }).gc?.();
        reply({ type: 'synced', id });
      });
      return;
    case 'discard':
      step(id, (encoder) => encoder.release());
      encoders.delete(id);
      return;
  }
}
