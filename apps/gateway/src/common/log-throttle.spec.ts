import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogThrottle } from './log-throttle.js';

describe('LogThrottle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('lets the first line of a key through, holds the rest for the interval, then reports how many it held', () => {
    const reported: [string, number][] = [];
    const throttle = new LogThrottle<string>(10_000, (details, held) => reported.push([details, held]));
    const passes = [throttle.pass('storage', 'first'), throttle.pass('storage', 'second'), throttle.pass('storage', 'third')];
    expect(passes).toEqual([true, false, false]);
    vi.advanceTimersByTime(9_999);
    expect(reported).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(reported).toEqual([['first', 2]]);
    expect(throttle.pass('storage', 'fourth')).toBe(true);
  });

  it('counts each key on its own, and reports nothing for a key that held nothing', () => {
    const reported: [string, number][] = [];
    const throttle = new LogThrottle<string>(10_000, (details, held) => reported.push([details, held]));
    expect(throttle.pass('database', 'db')).toBe(true);
    expect(throttle.pass('storage', 'storage')).toBe(true);
    expect(throttle.pass('database', 'db again')).toBe(false);
    vi.advanceTimersByTime(10_000);
    expect(reported).toEqual([['db', 1]]);
  });
});
