import { describe, expect, it } from 'vitest';
import { Mixer } from './mixer.js';
import { generateTone, toneLevel } from './tone.js';

const filled = (length: number, value: number) => new Int16Array(length).fill(value);

function runs(samples: Int16Array): Array<[start: number, end: number, value: number]> {
  const out: Array<[number, number, number]> = [];
  for (let i = 0; i < samples.length; ) {
    let j = i;
    while (j < samples.length && samples[j] === samples[i]) j++;
    out.push([i, j, samples[i]]);
    i = j;
  }
  return out;
}

describe('Mixer', () => {
  it('places frames of two sources at their sample positions and sums them', () => {
    const mixer = new Mixer({ sampleRate: 16000 });
    mixer.addSource('a', { sampleRate: 16000, joinAt: 0 });
    mixer.addSource('b', { sampleRate: 16000, joinAt: 160 });
    expect(mixer.push('a', 0, filled(320, 100))).toBe('placed');
    expect(mixer.push('a', 20, filled(320, 200))).toBe('placed');
    // b's clock starts elsewhere: only differences matter, its first frame lands at joinAt.
    expect(mixer.push('b', 5000, filled(320, 1000))).toBe('placed');
    expect(mixer.push('b', 5030, filled(320, 3000))).toBe('placed');
    const mixed = mixer.mixUntil(1280);
    expect(mixed).toHaveLength(1280);
    expect(mixer.cursor).toBe(1280);
    expect(runs(mixed)).toEqual([
      [0, 160, 100],
      [160, 320, 1100],
      [320, 480, 1200],
      [480, 640, 200],
      [640, 960, 3000],
      [960, 1280, 0],
    ]);
  });

  it('mixes two tones into exactly their sum, over frame boundaries and mix calls of any size', () => {
    const mixer = new Mixer({ sampleRate: 16000 });
    mixer.addSource('low', { sampleRate: 16000, joinAt: 0 });
    mixer.addSource('high', { sampleRate: 16000, joinAt: 0 });
    const low = generateTone({ frequency: 1000, sampleRate: 16000, durationMs: 1000, amplitude: 0.3 });
    const high = generateTone({ frequency: 3000, sampleRate: 16000, durationMs: 1000, amplitude: 0.2 });
    const parts: Int16Array[] = [];
    for (let f = 0; f < 50; f++) {
      expect(mixer.push('low', 20 * f, low.subarray(320 * f, 320 * f + 320))).toBe('placed');
      expect(mixer.push('high', 20 * f + 7, high.subarray(320 * f, 320 * f + 320))).toBe('placed');
      parts.push(mixer.mixUntil(mixer.cursor + (f % 3 === 0 ? 100 : 400)));
    }
    parts.push(mixer.mixUntil(16000));
    const mixed = new Int16Array(16000);
    let offset = 0;
    for (const p of parts) {
      mixed.set(p, offset);
      offset += p.length;
    }
    expect(offset).toBe(16000);
    for (let i = 0; i < 16000; i++) {
      if (mixed[i] !== low[i] + high[i]) throw new Error(`sample ${i}: ${mixed[i]} != ${low[i] + high[i]}`);
    }
    expect(toneLevel(mixed, 16000, 1000)).toBeCloseTo(0.3, 2);
    expect(toneLevel(mixed, 16000, 3000)).toBeCloseTo(0.2, 2);
  });

  it('fills gaps with silence', () => {
    const mixer = new Mixer({ sampleRate: 8000 });
    mixer.addSource('a', { sampleRate: 8000, joinAt: 0 });
    mixer.push('a', 100, filled(160, 500));
    mixer.push('a', 120, filled(160, 500));
    mixer.push('a', 160, filled(160, 500)); // 140 never came
    expect(runs(mixer.mixUntil(800))).toEqual([
      [0, 320, 500],
      [320, 480, 0],
      [480, 640, 500],
      [640, 800, 0],
    ]);
    // Nothing at all: silence of the asked length.
    expect(Array.from(new Set(mixer.mixUntil(5000)))).toEqual([0]);
    expect(mixer.cursor).toBe(5000);
  });

  it('drops and counts late frames, keeps the part of a frame after the cursor', () => {
    const mixer = new Mixer({ sampleRate: 16000 });
    mixer.addSource('a', { sampleRate: 16000, joinAt: 0 });
    mixer.push('a', 0, filled(320, 1));
    mixer.mixUntil(480);
    expect(mixer.push('a', 0, filled(320, 9))).toBe('late'); // ends at 320 <= 480
    expect(mixer.push('a', 10, filled(320, 9))).toBe('late'); // ends at 480, exactly the cursor
    expect(mixer.push('a', 20, filled(320, 7))).toBe('clipped'); // [320, 640): only [480, 640) is kept
    expect(runs(mixer.mixUntil(800))).toEqual([
      [0, 160, 7],
      [160, 320, 0],
    ]);
    expect(mixer.stats('a')).toEqual({ placed: 1, shifted: 0, clipped: 1, late: 2, ahead: 0, realigned: 0 });
  });

  it('places a first frame that comes after its join has passed where it can still be heard, and the frames after it by their timestamps', () => {
    const mixer = new Mixer({ sampleRate: 16000 });
    mixer.addSource('a', { sampleRate: 16000, joinAt: 0 });
    mixer.mixUntil(3200); // the source joined at 0, its first audio comes 200 ms later
    expect(mixer.push('a', 500, filled(320, 5), 4000)).toBe('placed');
    expect(mixer.push('a', 520, filled(320, 6), 4100)).toBe('placed');
    // A timed source's later frames keep their timestamps: one that is late stays late.
    expect(mixer.push('a', 400, filled(320, 9), 4100)).toBe('late');
    expect(runs(mixer.mixUntil(4800))).toEqual([
      [0, 800, 0],
      [800, 1120, 5],
      [1120, 1440, 6],
      [1440, 1600, 0],
    ]);
    expect(mixer.stats('a')).toEqual({ placed: 2, shifted: 0, clipped: 0, late: 1, ahead: 0, realigned: 0 });
  });

  it('places each frame of an untimed source after the one before, or, once that has passed, where it can still be heard, with silence between', () => {
    const mixer = new Mixer({ sampleRate: 16000 });
    mixer.addSource('a', { sampleRate: 16000, joinAt: 0, untimed: true });
    expect(mixer.push('a', 0, filled(320, 1), 0)).toBe('placed');
    mixer.mixUntil(200);
    // Later than the margin asks, but its place (320) is still ahead of the mix: it goes there.
    expect(mixer.push('a', 20, filled(320, 2), 600)).toBe('placed');
    // the sender pauses for 100 ms
    expect(runs(mixer.mixUntil(1600))).toEqual([
      [0, 120, 1],
      [120, 440, 2],
      [440, 1400, 0],
    ]);
    // Its next frame's place (640) has passed: it goes where a frame arriving now can be heard.
    expect(mixer.push('a', 40, filled(320, 3), 2000)).toBe('shifted');
    expect(mixer.push('a', 60, filled(320, 4), 2000)).toBe('placed'); // right after it again
    expect(runs(mixer.mixUntil(3200))).toEqual([
      [0, 400, 0],
      [400, 720, 3],
      [720, 1040, 4],
      [1040, 1600, 0],
    ]);
    expect(mixer.stats('a')).toEqual({ placed: 3, shifted: 1, clipped: 0, late: 0, ahead: 0, realigned: 0 });
  });

  it('refuses and counts frames too far ahead', () => {
    const mixer = new Mixer({ sampleRate: 16000, maxAheadMs: 500 });
    mixer.addSource('a', { sampleRate: 16000, joinAt: 0 });
    expect(mixer.push('a', 0, filled(320, 1))).toBe('placed');
    expect(mixer.push('a', 500, filled(320, 2))).toBe('placed'); // starts exactly maxAhead past the cursor
    expect(mixer.push('a', 520, filled(320, 3))).toBe('ahead');
    expect(mixer.stats('a')).toEqual({ placed: 2, shifted: 0, clipped: 0, late: 0, ahead: 1, realigned: 0 });
    const mixed = mixer.mixUntil(16000);
    expect(mixed[8000]).toBe(2);
    expect(mixed[8320]).toBe(0);
  });

  it('saturates sums at the int16 limits instead of wrapping', () => {
    const mixer = new Mixer({ sampleRate: 16000 });
    mixer.addSource('a', { sampleRate: 16000, joinAt: 0 });
    mixer.addSource('b', { sampleRate: 16000, joinAt: 0 });
    mixer.addSource('c', { sampleRate: 16000, joinAt: 320 }); // its first frame (ts 20) lands at 320
    const tone = generateTone({ frequency: 1000, sampleRate: 16000, durationMs: 20, amplitude: 1 });
    mixer.push('a', 0, tone);
    mixer.push('b', 0, tone);
    mixer.push('a', 20, filled(320, -32768));
    mixer.push('b', 20, filled(320, -32768));
    mixer.push('c', 20, filled(320, -32768));
    const mixed = mixer.mixUntil(640);
    for (let i = 0; i < 320; i++) {
      const expected = Math.max(-32768, Math.min(32767, 2 * tone[i]));
      expect(mixed[i]).toBe(expected);
    }
    expect(Math.max(...mixed.subarray(0, 320))).toBe(32767);
    expect(Math.min(...mixed.subarray(0, 320))).toBe(-32768);
    expect(Array.from(new Set(mixed.subarray(320)))).toEqual([-32768]);
  });

  it('starts a late joiner at its join point', () => {
    const mixer = new Mixer({ sampleRate: 16000 });
    mixer.addSource('first', { sampleRate: 16000, joinAt: 0 });
    mixer.push('first', 0, filled(320, 10));
    expect(mixer.mixUntil(16000)).toHaveLength(16000);
    mixer.addSource('late', { sampleRate: 16000, joinAt: 16800 });
    expect(mixer.push('late', 987654, filled(320, 40))).toBe('placed');
    expect(mixer.push('late', 987674, filled(320, 50))).toBe('placed');
    expect(runs(mixer.mixUntil(17600))).toEqual([
      [0, 800, 0],
      [800, 1120, 40],
      [1120, 1440, 50],
      [1440, 1600, 0],
    ]);
  });

  it('starts its timeline where it is told, and places frames there as from 0', () => {
    const mixer = new Mixer({ sampleRate: 16000, startAt: 48_001 });
    expect(mixer.cursor).toBe(48_001);
    mixer.addSource('a', { sampleRate: 16000, joinAt: 48_321 });
    expect(mixer.push('a', 5000, filled(320, 30))).toBe('placed');
    expect(mixer.mixUntil(48_000)).toHaveLength(0);
    expect(runs(mixer.mixUntil(49_001))).toEqual([
      [0, 320, 0],
      [320, 640, 30],
      [640, 1000, 0],
    ]);
    expect(() => new Mixer({ sampleRate: 8000, startAt: -1 })).toThrow(RangeError);
  });

  it('leaves inaudible sources out of the mix, and back in when audible again', () => {
    const mixer = new Mixer({ sampleRate: 8000 });
    mixer.addSource('a', { sampleRate: 8000, joinAt: 0 });
    mixer.addSource('held', { sampleRate: 8000, joinAt: 0 });
    mixer.setAudible('held', false);
    mixer.push('a', 0, filled(160, 3));
    expect(mixer.push('held', 0, filled(160, 1000))).toBe('placed');
    expect(Array.from(new Set(mixer.mixUntil(160)))).toEqual([3]);
    mixer.setAudible('held', true);
    mixer.push('held', 20, filled(160, 1000));
    expect(Array.from(new Set(mixer.mixUntil(320)))).toEqual([1000]);
    mixer.setAudible('a', false);
    mixer.setAudible('held', false);
    mixer.push('a', 40, filled(160, 3));
    mixer.push('held', 40, filled(160, 3));
    expect(Array.from(new Set(mixer.mixUntil(480)))).toEqual([0]);
  });

  it('keeps audio placed before removal, drops the rest, and ignores unknown ids', () => {
    const mixer = new Mixer({ sampleRate: 16000 });
    mixer.addSource('a', { sampleRate: 16000, joinAt: 0 });
    mixer.push('a', 0, filled(320, 5));
    mixer.push('a', 20, filled(320, 6));
    const before = mixer.mixUntil(320);
    mixer.removeSource('a');
    expect(Array.from(new Set(before))).toEqual([5]);
    expect(Array.from(new Set(mixer.mixUntil(640)))).toEqual([0]);
    expect(mixer.push('a', 40, filled(320, 7))).toBe('unknown');
    expect(mixer.stats('a')).toBeUndefined();
    expect(() => mixer.setAudible('nobody', false)).not.toThrow();
    expect(() => mixer.addSource('b', { sampleRate: 16000, joinAt: -1 })).toThrow(RangeError);
    mixer.addSource('b', { sampleRate: 16000, joinAt: 640 });
    expect(() => mixer.addSource('b', { sampleRate: 16000, joinAt: 640 })).toThrow(/already/);
    expect(() => mixer.push('b', Number.NaN, filled(320, 1))).toThrow(RangeError);
    mixer.removeSource('b');
    // The id can come back as a new source.
    mixer.addSource('a', { sampleRate: 16000, joinAt: 640 });
    expect(mixer.push('a', 0, filled(320, 8))).toBe('placed');
    expect(Array.from(new Set(mixer.mixUntil(960)))).toEqual([8]);
  });

  it('lets a later overlapping frame of the same source overwrite', () => {
    const mixer = new Mixer({ sampleRate: 16000 });
    mixer.addSource('a', { sampleRate: 16000, joinAt: 0 });
    mixer.push('a', 0, filled(320, 1));
    mixer.push('a', 10, filled(320, 2));
    expect(runs(mixer.mixUntil(640))).toEqual([
      [0, 160, 1],
      [160, 480, 2],
      [480, 640, 0],
    ]);
  });

  it('resamples an 8 kHz source into a 16 kHz mix without changing its tone', () => {
    const mixer = new Mixer({ sampleRate: 16000 });
    mixer.addSource('narrow', { sampleRate: 8000, joinAt: 0 });
    const tone = generateTone({ frequency: 1000, sampleRate: 8000, durationMs: 1000, amplitude: 0.5 });
    for (let f = 0; f < 50; f++) expect(mixer.push('narrow', 20 * f, tone.subarray(160 * f, 160 * f + 160))).toBe('placed');
    const mixed = mixer.mixUntil(16000);
    const settled = mixed.subarray(320);
    expect(toneLevel(settled, 16000, 1000)).toBeGreaterThan(0.45);
    expect(toneLevel(settled, 16000, 1000)).toBeLessThan(0.55);
    expect(toneLevel(settled, 16000, 500)).toBeLessThan(0.01);
    expect(toneLevel(settled, 16000, 2000)).toBeLessThan(0.01);
    expect(toneLevel(settled, 16000, 7000)).toBeLessThan(0.01); // the 8 kHz image of 1 kHz
  });

  it('resamples a 16 kHz source into an 8 kHz mix', () => {
    const mixer = new Mixer({ sampleRate: 8000 });
    mixer.addSource('wide', { sampleRate: 16000, joinAt: 80 });
    const tone = generateTone({ frequency: 1000, sampleRate: 16000, durationMs: 500, amplitude: 0.5 });
    for (let f = 0; f < 25; f++) mixer.push('wide', 20 * f, tone.subarray(320 * f, 320 * f + 320));
    const mixed = mixer.mixUntil(4080);
    expect(Array.from(new Set(mixed.subarray(0, 80)))).toEqual([0]);
    expect(toneLevel(mixed.subarray(160), 8000, 1000)).toBeCloseTo(0.5, 1);
  });

  it('mixes a stretch longer than its ring buffers correctly', () => {
    const mixer = new Mixer({ sampleRate: 8000, maxAheadMs: 100 });
    mixer.addSource('a', { sampleRate: 8000, joinAt: 0 });
    mixer.push('a', 0, filled(160, 4));
    mixer.push('a', 100, filled(160, 5));
    expect(runs(mixer.mixUntil(20000))).toEqual([
      [0, 160, 4],
      [160, 800, 0],
      [800, 960, 5],
      [960, 20000, 0],
    ]);
  });

  it('grows a ring once for frames longer than expected, then stays flat', () => {
    const mixer = new Mixer({ sampleRate: 16000, maxAheadMs: 100 });
    mixer.addSource('a', { sampleRate: 16000, joinAt: 0 });
    const initial = mixer.bufferedBytes;
    mixer.push('a', 0, filled(160, 1));
    mixer.push('a', 10, filled(8000, 2)); // half a second in one frame
    const grown = mixer.bufferedBytes;
    expect(grown).toBeGreaterThan(initial);
    const mixed = mixer.mixUntil(8160);
    expect(runs(mixed)).toEqual([
      [0, 160, 1],
      [160, 8160, 2],
    ]);
    for (let f = 0; f < 100; f++) mixer.push('a', 510 + 500 * f, filled(8000, 3));
    expect(mixer.bufferedBytes).toBe(grown);
  });

  it('keeps memory flat and the cursor exact over 100k frames', () => {
    const mixer = new Mixer({ sampleRate: 16000 });
    mixer.addSource('wide', { sampleRate: 16000, joinAt: 0 });
    mixer.addSource('narrow', { sampleRate: 8000, joinAt: 48 });
    const wide = generateTone({ frequency: 1000, sampleRate: 16000, durationMs: 20, amplitude: 0.3 });
    const narrow = generateTone({ frequency: 500, sampleRate: 8000, durationMs: 20, amplitude: 0.3 });
    const bytesAtStart = mixer.bufferedBytes;
    let mixedLength = 0;
    let late = 0;
    for (let f = 0; f < 100_000; f++) {
      // Some jitter: every 7th frame of 'narrow' arrives one frame late, after the next one.
      if (f % 7 === 3) {
        mixer.push('narrow', 20 * (f + 1), narrow);
        mixer.push('narrow', 20 * f, narrow);
      } else if (f % 7 !== 4) {
        mixer.push('narrow', 20 * f, narrow);
      }
      mixer.push('wide', 20 * f, wide);
      if (f % 3 === 2) {
        mixer.push('wide', 20 * f - 200, wide); // far too late
        late++;
      }
      mixedLength += mixer.mixUntil(Math.max(0, 320 * f - 160 + (f % 5) * 7)).length;
      if (f % 10_000 === 0) expect(mixer.bufferedBytes).toBe(bytesAtStart);
    }
    mixedLength += mixer.mixUntil(320 * 100_000 + 48).length;
    expect(mixer.cursor).toBe(mixedLength);
    expect(mixer.cursor).toBe(32_000_048);
    expect(mixer.bufferedBytes).toBe(bytesAtStart);
    expect(mixer.stats('wide')).toEqual({ placed: 100_000, shifted: 0, clipped: 0, late, ahead: 0, realigned: 0 });
    expect(mixer.stats('narrow')).toEqual({ placed: 100_000, shifted: 0, clipped: 0, late: 0, ahead: 0, realigned: 0 });
  });

  it('mixes one to six voices, some muted, across ring wraps, exactly as a plain saturating sum', () => {
    // A small maxAhead gives small rings, so chunks often straddle a ring's end.
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let voices = 1; voices <= 6; voices += 1) {
      const mixer = new Mixer({ sampleRate: 8000, maxAheadMs: 30 });
      const frames = 60;
      const expected = new Int32Array(frames * 160);
      for (let v = 0; v < voices; v += 1) mixer.addSource(`v${v}`, { sampleRate: 8000, joinAt: 0 });
      const muted = (v: number) => v === 2;
      mixer.setAudible('v2', false);
      const mixed: Int16Array[] = [];
      for (let f = 0; f < frames; f += 1) {
        for (let v = 0; v < voices; v += 1) {
          const frame = Int16Array.from({ length: 160 }, () => Math.round((random() * 2 - 1) * 20_000));
          expect(mixer.push(`v${v}`, f * 20, frame)).toBe('placed');
          if (!muted(v)) frame.forEach((sample, i) => (expected[f * 160 + i]! += sample));
        }
        // Uneven pulls, so chunk edges fall anywhere in the rings.
        mixed.push(mixer.mixUntil((f + 1) * 160 - Math.floor(random() * 100)));
      }
      mixed.push(mixer.mixUntil(frames * 160));
      const all = Int16Array.from(mixed.flatMap((chunk) => [...chunk]));
      expect(all).toEqual(Int16Array.from(expected, (v) => Math.max(-32_768, Math.min(32_767, v))));
    }
  });

  describe('a timed sender whose clock drifts', () => {
    /**
     * A call engine's use of the mixer at 8 kHz with a 100 ms jitter window: one source whose frame k
     * (timestamp 20k ms) arrives at `arrival(k)` ms on the mix's clock, mixed up to 100 ms behind
     * each arrival, with `earliest` 50 ms behind it. Answers the source's stats, how much of the mix
     * after the first second is silent, and how long after the last frame came its audio ends.
     */
    function run(frames: number, arrival: (frame: number) => number) {
      const mixer = new Mixer({ sampleRate: 8000 });
      const at = (ms: number) => Math.max(0, Math.round(ms * 8));
      mixer.addSource('a', { sampleRate: 8000, joinAt: 0 });
      let silent = 0;
      let heardUntil = 0;
      const mixTo = (until: number) => {
        const from = mixer.cursor;
        const out = mixer.mixUntil(until);
        for (let i = Math.max(0, 8000 - from); i < out.length; i += 1) if (out[i] === 0) silent += 1;
        for (let i = 0; i < out.length; i += 1) if (out[i] !== 0) heardUntil = from + i + 1;
      };
      for (let frame = 0; frame < frames; frame += 1) {
        const now = arrival(frame);
        mixTo(at(now - 100));
        mixer.push('a', frame * 20, filled(160, 1000), at(now - 50));
      }
      mixTo(mixer.cursor + 800);
      const silentShare = silent / (mixer.cursor - 8000);
      // The rest of what was placed ahead.
      mixTo(mixer.cursor + 24_000);
      return { stats: mixer.stats('a')!, silentShare, endLagMs: heardUntil / 8 - arrival(frames - 1) };
    }

    it('is moved later, a short gap at a time, rather than falling behind the mix for good', () => {
      // 500 ppm slow over 20 minutes: 600 ms behind by the end, 6 jitter windows. Each move takes
      // back about half the 50 ms margin; without them, every frame after the fourth minute is late.
      const slow = run(60_000, (frame) => frame * 20 * 1.0005 + 5);
      expect(slow.stats.late).toBe(0);
      expect(slow.stats.realigned).toBeGreaterThanOrEqual(15);
      expect(slow.stats.realigned).toBeLessThanOrEqual(30);
      expect(slow.silentShare).toBeLessThan(0.01);
    });

    it('is moved earlier, a short stretch at a time, rather than heard ever later and then not at all', () => {
      // 500 ppm fast over 20 minutes: 600 ms ahead by the end. Without the moves its last frame is
      // heard 600 ms later than an on-time one, and at 2 s ahead (after 67 minutes) none is.
      const onTime = run(60_000, (frame) => frame * 20 + 5);
      const fast = run(60_000, (frame) => frame * 20 * 0.9995 + 5);
      expect(fast.stats).toMatchObject({ late: 0, ahead: 0 });
      expect(fast.endLagMs - onTime.endLagMs).toBeLessThan(60);
      expect(fast.stats.realigned).toBeGreaterThanOrEqual(15);
      expect(fast.stats.realigned).toBeLessThanOrEqual(30);
      expect(fast.silentShare).toBeLessThan(0.001);
      // 2000 ppm: frames are refused as ahead after about 17 minutes without the moves.
      const faster = run(60_000, (frame) => frame * 20 * 0.998 + 5);
      expect(faster.stats).toMatchObject({ late: 0, ahead: 0 });
      expect(faster.endLagMs - onTime.endLagMs).toBeLessThan(60);
    });

    it('is moved later once when network delays rise, and stays there when they fall and rise again', () => {
      // 150 ms more delay over 20-50 s and again over 120-150 s. The first rise costs a window of late
      // frames and a move; moving back when delays fall would cost every later rise as much again.
      const episodes = run(10_000, (frame) => {
        const ms = frame * 20;
        return ms + 5 + ((ms >= 20_000 && ms < 50_000) || (ms >= 120_000 && ms < 150_000) ? 150 : 0);
      });
      expect(episodes.stats.realigned).toBe(1);
      expect(episodes.stats.late).toBeLessThanOrEqual(260);
      expect(episodes.stats.ahead).toBe(0);
    });

    it('is left alone when on time, and when a stall makes a burst of late frames', () => {
      const onTime = run(15_000, (frame) => frame * 20 + 5);
      expect(onTime.stats).toMatchObject({ late: 0, realigned: 0 });
      expect(onTime.silentShare).toBeLessThan(0.001);
      // Its audio begins 2 s after it joined: the first frame goes where it can still be heard, with no lead, and the rest follow it.
      const lateStart = run(15_000, (frame) => 2000 + frame * 20 + 5);
      expect(lateStart.stats).toMatchObject({ late: 0, realigned: 0 });
      // Its first 200 ms of frames queued while it joined: all its frames come 200 ms early, and that is how they stay,
      // even when one is held up 140 ms in the seconds its steady lead is measured over.
      const queued = run(15_000, (frame) => Math.max(200, frame * 20) + 5);
      expect(queued.stats).toMatchObject({ late: 0, ahead: 0, realigned: 0 });
      const queuedHeld = run(15_000, (frame) => Math.max(200, frame * 20) + (frame >= 350 && frame < 357 ? 145 : 5));
      expect(queuedHeld.stats).toMatchObject({ ahead: 0, realigned: 0 });
      // Frames 500-519 (400 ms) held up, then all at once: those past the window are dropped, the rest keep their places.
      const stalled = run(1_500, (frame) => (frame >= 500 && frame < 520 ? 520 * 20 + 5 : frame * 20 + 5));
      expect(stalled.stats.realigned).toBe(0);
      expect(stalled.stats.late).toBeGreaterThan(10);
      expect(stalled.stats.placed + stalled.stats.clipped).toBe(1_500 - stalled.stats.late);
    });
  });
});
