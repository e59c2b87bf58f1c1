import { Worker } from 'node:worker_threads';
import type { Logger } from '../common/logger.js';
import type { AudioEncoder, AudioRate, EncodedOutput, EncoderFactory, EncoderSpec } from './audio-encoder.js';
import { packViews, type EncoderReply, type EncoderRequest } from './encoder-protocol.js';

/** The main thread's side of one encoder on a worker thread. */
class RemoteEncoder implements AudioEncoder {
  failure: Error | undefined;
  private ending: { resolve: (header: Uint8Array) => void; reject: (error: Error) => void } | undefined;

  constructor(
    readonly id: number,
    readonly sampleRate: AudioRate,
    readonly channels: number,
    private readonly output: EncodedOutput,
    private readonly send: (request: EncoderRequest) => void,
    private readonly forget: (id: number) => void,
  ) {}

  encode(samples: Int16Array): void {
    if (this.failure || samples.length === 0) return;
    this.send({ type: 'encode', id: this.id, samples });
  }

  end(): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.ending = { resolve, reject };
      this.send({ type: 'end', id: this.id });
    });
  }

  discard(): void {
    this.send({ type: 'discard', id: this.id });
    this.forget(this.id);
  }

  received(reply: EncoderReply): void {
    if (reply.type === 'bytes') {
      this.output(reply.bytes);
    } else if (reply.type === 'ended') {
      this.forget(this.id);
      this.ending?.resolve(reply.header);
    } else if (reply.type === 'failed') {
      this.fail(new Error(`encoder failed: ${reply.message}`));
    }
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.forget(this.id);
    this.ending?.reject(this.failure);
  }
}

interface EncoderThread {
  worker: Worker;
  /** Requests not yet posted: one message per turn of the event loop, however many recordings. */
  outbox: EncoderRequest[];
  encoders: Map<number, RemoteEncoder>;
  /** Sync requests not yet answered. */
  waiting: Map<number, () => void>;
}

/**
 * Encoders on worker threads, so encoding does not share the event loop with the API, the media
 * sockets and the mixer. Each recording's encoder lives on the thread with the fewest; a thread
 * that dies fails its encoders' recordings and is replaced for the next ones.
 */
export class EncoderThreads implements EncoderFactory {
  private readonly threads: (EncoderThread | undefined)[];
  private nextId = 1;
  private closing = false;

  constructor(
    size: number,
    private readonly logger: Logger,
  ) {
    this.threads = Array.from({ length: size }, () => undefined);
  }

  async create(spec: EncoderSpec, output: EncodedOutput): Promise<AudioEncoder> {
    const thread = this.leastBusy();
    const id = this.nextId++;
    const send = (request: EncoderRequest) => this.send(thread, request);
    const encoder = new RemoteEncoder(id, spec.sampleRate, spec.channels, output, send, (done) => thread.encoders.delete(done));
    thread.encoders.set(id, encoder);
    send({ type: 'open', id, spec });
    return encoder;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((thread) => thread?.worker.terminate()));
  }

  /** Resolves once the threads have handled everything sent to them so far. */
  async synced(): Promise<void> {
    await Promise.all(
      this.threads.map((thread) => {
        if (!thread) return undefined;
        const id = this.nextId++;
        return new Promise<void>((resolve) => {
          thread.waiting.set(id, resolve);
          this.send(thread, { type: 'sync', id });
        });
      }),
    );
  }

  private send(thread: EncoderThread, request: EncoderRequest): void {
    if (thread.outbox.length === 0) queueMicrotask(() => this.post(thread));
    thread.outbox.push(request);
  }

  private post(thread: EncoderThread): void {
    const requests = thread.outbox;
    thread.outbox = [];
    const encodes = requests.filter((request) => request.type === 'encode');
    const samples = encodes.map((request) => request.samples);
    const buffer = packViews(samples, (length) => new Int16Array(length));
    encodes.forEach((request, i) => (request.samples = samples[i]!));
    thread.worker.postMessage(requests, [buffer]);
  }

  private leastBusy(): EncoderThread {
    let best = 0;
    for (let i = 0; i < this.threads.length; i += 1) {
      const thread = this.threads[i];
      if (!thread) return (this.threads[i] = this.spawn(i));
      if (thread.encoders.size < this.threads[best]!.encoders.size) best = i;
    }
    return this.threads[best]!;
  }

  private spawn(index: number): EncoderThread {
    const worker = new Worker(new URL('./encoder-worker.js', import.meta.url));
    const thread: EncoderThread = { worker, outbox: [], encoders: new Map(), waiting: new Map() };
    worker.unref();
    worker.on('message', (replies: EncoderReply[]) => {
      for (const reply of replies) {
        if (reply.type !== 'synced') {
          thread.encoders.get(reply.id)?.received(reply);
          continue;
        }
        thread.waiting.get(reply.id)?.();
        thread.waiting.delete(reply.id);
      }
    });
    const lost = (error: Error) => {
      if (this.threads[index] === thread) this.threads[index] = undefined;
      for (const encoder of thread.encoders.values()) encoder.fail(error);
      for (const resolve of thread.waiting.values()) resolve();
      thread.waiting.clear();
      if (!this.closing) this.logger.error({ err: error, thread: index }, 'encoder thread stopped; its recordings failed');
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`encoder thread exited with code ${code}`)));
    return thread;
  }
}
