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
  /** The lag probe in flight (when it was sent), and the round trip of the last one answered. */
  probeSentAt: number | undefined;
  lastProbeMs: number;
}

/** How often each thread is asked how far behind it is. */
const PROBE_EVERY_MS = 500;
/** A lag the operator is told of: encoding is meant to run within a second of the audio. */
export const ENCODERS_BEHIND_WARN_MS = 5000;
/** While the threads stay behind, the warning is repeated this often, with the lag then. */
const BEHIND_REPEAT_MS = 60_000;

/**
 * Encoders on worker threads, so encoding does not share the event loop with the API, the media
 * sockets and the mixer. Each recording's encoder lives on the thread with the fewest; a thread
 * that dies fails its encoders' recordings and is replaced for the next ones.
 */
export class EncoderThreads implements EncoderFactory {
  private readonly threads: (EncoderThread | undefined)[];
  private nextId = 1;
  private closing = false;
  private readonly probes: NodeJS.Timeout;
  /** Since when the threads have been behind by the warning's lag, and when that was last said. */
  private behind: { since: number; toldAt: number } | undefined;

  constructor(
    size: number,
    private readonly logger: Logger,
    private readonly behindWarnMs = ENCODERS_BEHIND_WARN_MS,
  ) {
    this.threads = Array.from({ length: size }, () => undefined);
    this.probes = setInterval(() => this.probe(), PROBE_EVERY_MS);
    this.probes.unref();
  }

  /**
   * How far behind the threads are: per thread, the age of its probe still unanswered, or else the
   * last probe's round trip; the worst of them. A thread answers a probe once it has encoded all
   * that came before it, so a thread that cannot keep up shows a lag that grows.
   */
  lagMs(): number {
    const now = performance.now();
    return Math.round(Math.max(0, ...this.threads.map((thread) => (!thread ? 0 : thread.probeSentAt === undefined ? thread.lastProbeMs : now - thread.probeSentAt))));
  }

  private probe(): void {
    this.tellLag();
    for (const thread of this.threads) {
      if (!thread || thread.probeSentAt !== undefined) continue;
      const id = this.nextId++;
      const sentAt = performance.now();
      thread.probeSentAt = sentAt;
      thread.waiting.set(id, () => {
        thread.probeSentAt = undefined;
        thread.lastProbeMs = performance.now() - sentAt;
      });
      this.send(thread, { type: 'sync', id });
    }
  }

  /**
   * Encoding gives way to mixing (its threads run at a lower priority), so a machine short of CPU
   * shows here first: the files of stopped recordings wait for the encoders, and the audio they
   * have not encoded yet waits in memory.
   */
  private tellLag(): void {
    const lag = this.lagMs();
    const now = performance.now();
    if (lag >= this.behindWarnMs && (!this.behind || now - this.behind.toldAt >= BEHIND_REPEAT_MS)) {
      this.behind = { since: this.behind?.since ?? now - lag, toldAt: now };
      this.logger.warn(
        { encoder_lag_ms: lag },
        'encoders are behind the audio: the machine has less CPU than its live recordings need; stopped recordings get their files that much later, and the audio waiting holds memory',
      );
    } else if (this.behind && lag < Math.min(1000, this.behindWarnMs)) {
      this.logger.info({ encoder_lag_ms: lag, behind_ms: Math.round(now - this.behind.since) }, 'encoders caught up with the audio');
      this.behind = undefined;
    }
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
    clearInterval(this.probes);
    await Promise.all(this.threads.map((thread) => thread?.worker.terminate()));
  }

  /** Resolves once the threads have handled everything sent to them so far, and collected their garbage where they can. */
  async synced(): Promise<void> {
    await Promise.all(
      this.threads.map((thread) => {
        if (!thread) return undefined;
        const id = this.nextId++;
        return new Promise<void>((resolve) => {
          thread.waiting.set(id, resolve);
          this.send(thread, { type: 'sync', id, collectGarbage: true });
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
    const thread: EncoderThread = { worker, outbox: [], encoders: new Map(), waiting: new Map(), probeSentAt: undefined, lastProbeMs: 0 };
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
