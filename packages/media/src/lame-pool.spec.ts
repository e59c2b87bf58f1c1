import { afterAll, describe, expect, it, vi } from 'vitest';
import { MP3_POOL_TRIM_MS, mp3PoolStats, prewarmMp3Encoders } from './lame-pool.js';
import { Mp3Encoder } from './mp3.js';
import { generateTone } from './tone.js';

// Its own file: the pool is per thread, and this counts every instance made.
vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
afterAll(() => vi.useRealTimers());

const BUSY = 40;
const tone = generateTone({ frequency: 440, sampleRate: 8000, durationMs: 100, amplitude: 0.5 });

async function recordAtOnce(count: number): Promise<void> {
  const encoders = await Promise.all(Array.from({ length: count }, () => Mp3Encoder.create({ sampleRate: 8000 })));
  for (const encoder of encoders) {
    encoder.encode(tone);
    encoder.finish();
  }
}

describe('the pool of LAME instances', () => {
  it('keeps as many finished instances as were busy at once, so the next burst makes none', async () => {
    await recordAtOnce(BUSY);
    const { created, idle } = mp3PoolStats();
    expect(idle).toBeGreaterThanOrEqual(BUSY);
    await recordAtOnce(BUSY);
    expect(mp3PoolStats()).toEqual({ created, idle });
  });

  it('lets go of the instances a whole trim period did not need, down to the spare ones', async () => {
    const spare = 3;
    await prewarmMp3Encoders(spare);
    vi.advanceTimersByTime(MP3_POOL_TRIM_MS); // the first period had the bursts above: nothing goes
    const { idle } = mp3PoolStats();
    expect(idle).toBeGreaterThanOrEqual(BUSY);
    await recordAtOnce(10);
    vi.advanceTimersByTime(MP3_POOL_TRIM_MS);
    // Ten were in use during that period: all but those ten went unneeded.
    expect(mp3PoolStats().idle).toBe(10);
    vi.advanceTimersByTime(MP3_POOL_TRIM_MS);
    expect(mp3PoolStats().idle).toBe(spare);
    await recordAtOnce(1);
    vi.advanceTimersByTime(MP3_POOL_TRIM_MS);
    expect(mp3PoolStats().idle).toBe(spare);
  });

  it('serves a burst of short recordings from the instances they give back, rather than making one each', async () => {
    const { created, idle } = mp3PoolStats();
    expect(idle).toBe(3);
    const outputs = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const encoder = await Mp3Encoder.create({ sampleRate: 8000 });
        return Buffer.concat([encoder.encode(tone), encoder.finish()]);
      }),
    );
    // One is made while the first three go round; it joins the pool.
    expect(mp3PoolStats().created - created).toBeLessThanOrEqual(1);
    expect(new Set(outputs.map((output) => output.toString('hex'))).size).toBe(1); // each started afresh
  });
});
