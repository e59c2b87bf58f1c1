import { describe, expect, it } from 'vitest';
import { LogThrottle } from './log-throttle.js';

describe('LogThrottle', () => {
  it('lets the first line of a key through, holds the rest for the interval, then says how many it held', () => {
    let now = 0;
    const throttle = new LogThrottle(10_000, () => now);
    const passes = [0, 1, 2_000, 9_999, 10_001, 10_002].map((at) => ((now = at), throttle.pass('storage_unavailable')));
    expect(passes).toEqual([
      { log: true, held: 0 },
      { log: false, held: 0 },
      { log: false, held: 0 },
      { log: false, held: 0 },
      { log: true, held: 3 },
      { log: false, held: 0 },
    ]);
  });

  it('counts each key on its own', () => {
    let now = 0;
    const throttle = new LogThrottle(10_000, () => now);
    expect(throttle.pass('database_unavailable')).toEqual({ log: true, held: 0 });
    expect(throttle.pass('storage_unavailable')).toEqual({ log: true, held: 0 });
    expect(throttle.pass('database_unavailable')).toEqual({ log: false, held: 0 });
    now = 20_000;
    expect(throttle.pass('storage_unavailable')).toEqual({ log: true, held: 0 });
    expect(throttle.pass('database_unavailable')).toEqual({ log: true, held: 1 });
  });
});
