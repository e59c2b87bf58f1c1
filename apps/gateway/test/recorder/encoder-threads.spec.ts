import { afterEach, describe, expect, it } from 'vitest';
// The thread runs the compiled worker, so this test uses the build, as the gateway does.
import { inlineEncoders, type AudioEncoder, type EncoderFactory } from '../../dist/recorder/audio-encoder.js';
import { EncoderThreads } from '../../dist/recorder/encoder-threads.js';

const silentLogger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined } as never;

/** One second of a 440 Hz tone at `rate`, as 100 ms batches. */
function toneBatches(rate: number): Int16Array[] {
  const batches: Int16Array[] = [];
  for (let b = 0; b < 10; b += 1) {
    const batch = new Int16Array(rate / 10);
    for (let i = 0; i < batch.length; i += 1) batch[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (b * batch.length + i)) / rate));
    batches.push(batch);
  }
  return batches;
}

async function encodeAll(factory: EncoderFactory, format: 'mp3' | 'wav', rate: 8000 | 16000) {
  const chunks: Uint8Array[] = [];
  const encoder = await factory.create({ format, sampleRate: rate, channels: 1 }, (bytes) => chunks.push(bytes));
  for (const batch of toneBatches(rate)) encoder.encode(batch);
  const header = await encoder.end();
  return { bytes: Buffer.concat(chunks), header: Buffer.from(header) };
}

describe('encoder threads', () => {
  let threads: EncoderThreads;
  afterEach(() => threads.close());

  it('tell how far behind they are: a lag that grows while a thread has more audio than it can encode, and falls once it has caught up; the operator is told of both', async () => {
    const lines: { level: string; fields: Record<string, number>; message: string }[] = [];
    const record = (level: string) => (fields: Record<string, number>, message: string) => void lines.push({ level, fields, message });
    const logger = { error: record('error'), warn: record('warn'), info: record('info'), debug: () => undefined } as never;
    threads = new EncoderThreads(1, logger, 300);
    const encoder = await threads.create({ format: 'mp3', sampleRate: 16000, channels: 1 }, () => undefined);
    // Half an hour of audio handed over at once: seconds of work for the thread.
    for (let second = 0; second < 1800; second += 1) for (const batch of toneBatches(16000)) encoder.encode(batch);
    const started = performance.now();
    const seen: number[] = [];
    const sampler = setInterval(() => seen.push(threads.lagMs()), 100);
    await threads.synced();
    const busyMs = performance.now() - started;
    clearInterval(sampler);
    expect(busyMs).toBeGreaterThan(1000);
    // Probes go every 500 ms: the lag seen reaches the time the thread was busy, less at most one interval.
    expect(Math.max(...seen)).toBeGreaterThan(busyMs - 700);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(threads.lagMs()).toBeLessThan(200);
    // Told once when the lag passed the warning's (300 ms here), not at every probe, and once caught up.
    expect(lines.map((line) => line.level)).toEqual(['warn', 'info']);
    expect(lines[0]!.message).toMatch(/encoders are behind the audio/);
    expect(lines[0]!.fields.encoder_lag_ms).toBeGreaterThanOrEqual(300);
    expect(lines[1]!.message).toBe('encoders caught up with the audio');
    expect(lines[1]!.fields.behind_ms).toBeGreaterThanOrEqual(lines[0]!.fields.encoder_lag_ms!);
    await encoder.end();
  });

  it.each([
    ['mp3', 8000],
    ['mp3', 16000],
    ['wav', 8000],
  ] as const)('give the same %s bytes at %i Hz as encoding on the main thread', async (format, rate) => {
    threads = new EncoderThreads(2, silentLogger);
    const [remote, inline] = await Promise.all([encodeAll(threads, format, rate), encodeAll(inlineEncoders, format, rate)]);
    expect(remote.bytes.length).toBeGreaterThan(format === 'wav' ? rate * 2 : 1000);
    expect(remote.bytes.equals(inline.bytes)).toBe(true);
    expect(remote.header.equals(inline.header)).toBe(true);
  });

  it('keep many recordings apart, spread over the threads', async () => {
    threads = new EncoderThreads(2, silentLogger);
    const outputs = await Promise.all(Array.from({ length: 6 }, () => encodeAll(threads, 'mp3', 8000)));
    const reference = await encodeAll(inlineEncoders, 'mp3', 8000);
    for (const output of outputs) expect(output.bytes.equals(reference.bytes)).toBe(true);
  });

  it('fail the recordings of a thread that dies, and serve new ones on a fresh thread', async () => {
    threads = new EncoderThreads(1, silentLogger);
    const encoder: AudioEncoder = await threads.create({ format: 'mp3', sampleRate: 8000, channels: 1 }, () => undefined);
    encoder.encode(toneBatches(8000)[0]!);
    await threads.synced();
    const worker = (threads as unknown as { threads: { worker: { terminate(): Promise<number> } }[] }).threads[0]!.worker;
    await worker.terminate();
    await expect.poll(() => encoder.failure?.message).toMatch(/encoder thread exited/);
    await expect(encoder.end()).rejects.toThrow(/encoder thread exited/);

    const after = await encodeAll(threads, 'mp3', 8000);
    expect(after.bytes.length).toBeGreaterThan(1000);
  });

  it('report a failure to make an encoder through the encoder', async () => {
    threads = new EncoderThreads(1, silentLogger);
    const encoder = await threads.create({ format: 'mp3', sampleRate: 44100 as never, channels: 1 }, () => undefined);
    await expect(encoder.end()).rejects.toThrow(/unsupported sample rate/);
  });
});
