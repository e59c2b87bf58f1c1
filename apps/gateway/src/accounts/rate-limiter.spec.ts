import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

describe('rate limiter', () => {
  it('lets a full burst through, then refills evenly over the window', () => {
    let now = 0;
    const limiter = new RateLimiter(300, 5000, () => now);
    const burst = Array.from({ length: 301 }, () => limiter.take('MA1'));
    expect(burst.filter((waitMs) => waitMs === 0)).toHaveLength(300);
    // The next token comes a 300th of the window later.
    expect(burst.at(-1)).toBeCloseTo(5000 / 300);
    now += 1000; // a fifth of the window refills a fifth of the tokens
    expect(Array.from({ length: 61 }, () => limiter.take('MA1')).filter((waitMs) => waitMs === 0)).toHaveLength(60);
  });

  it('keeps accounts apart', () => {
    const limiter = new RateLimiter(1, 1000, () => 0);
    expect(limiter.take('MA1')).toBe(0);
    expect(limiter.take('MA1')).toBe(1000);
    expect(limiter.take('MA2')).toBe(0);
  });

  it('never limits with a limit of 0', () => {
    const limiter = new RateLimiter(0, 1000, () => 0);
    expect(Array.from({ length: 1000 }, () => limiter.take('MA1')).every((waitMs) => waitMs === 0)).toBe(true);
  });
});
