import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

describe('rate limiter', () => {
  it('lets a full burst through, then refills evenly over the window', () => {
    let now = 0;
    const limiter = new RateLimiter(300, 5000, () => now);
    const burst = Array.from({ length: 301 }, () => limiter.take('MA1'));
    expect(burst.filter(Boolean)).toHaveLength(300);
    now += 1000; // a fifth of the window refills a fifth of the tokens
    expect(Array.from({ length: 61 }, () => limiter.take('MA1')).filter(Boolean)).toHaveLength(60);
  });

  it('keeps accounts apart', () => {
    const limiter = new RateLimiter(1, 1000, () => 0);
    expect(limiter.take('MA1')).toBe(true);
    expect(limiter.take('MA1')).toBe(false);
    expect(limiter.take('MA2')).toBe(true);
  });

  it('never limits with a limit of 0', () => {
    const limiter = new RateLimiter(0, 1000, () => 0);
    expect(Array.from({ length: 1000 }, () => limiter.take('MA1')).every(Boolean)).toBe(true);
  });
});
