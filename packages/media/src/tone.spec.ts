import { describe, expect, it } from 'vitest';
import { generateTone, toneLevel } from './tone.js';

describe('tone tools', () => {
  it('generates the expected length and peak', () => {
    const tone = generateTone({ frequency: 1000, sampleRate: 16000, durationMs: 20, amplitude: 1 });
    expect(tone).toHaveLength(320);
    expect(Math.max(...tone)).toBe(32767);
    expect(Math.min(...tone)).toBe(-32767);
    expect(tone[0]).toBe(0);
    expect(tone[4]).toBe(32767); // quarter period of 1 kHz at 16 kHz
  });

  it('continues seamlessly with startSample', () => {
    const whole = generateTone({ frequency: 440, sampleRate: 8000, durationMs: 40, amplitude: 0.3 });
    const first = generateTone({ frequency: 440, sampleRate: 8000, durationMs: 20, amplitude: 0.3 });
    const second = generateTone({ frequency: 440, sampleRate: 8000, durationMs: 20, amplitude: 0.3, startSample: 160 });
    expect([...first, ...second]).toEqual([...whole]);
  });

  it('reads ~1 for a full-scale sine, its amplitude for quieter ones, ~0 for silence and other tones', () => {
    const full = generateTone({ frequency: 1000, sampleRate: 16000, durationMs: 100, amplitude: 1 });
    expect(toneLevel(full, 16000, 1000)).toBeCloseTo(1, 2);
    const half = generateTone({ frequency: 440, sampleRate: 8000, durationMs: 250, amplitude: 0.5 });
    expect(toneLevel(half, 8000, 440)).toBeCloseTo(0.5, 2);
    expect(toneLevel(new Int16Array(800), 8000, 440)).toBe(0);
    expect(toneLevel(full, 16000, 2000)).toBeLessThan(0.001);
    expect(toneLevel(new Int16Array(0), 8000, 440)).toBe(0);
  });
});
