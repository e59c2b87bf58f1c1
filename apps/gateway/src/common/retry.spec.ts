import { describe, expect, it } from 'vitest';
import { isFailureLogged, retryDelayMs, retryTimes, retryUntilDone } from './retry.js';

describe('retries', () => {
  it('tries again after each failure until the attempt succeeds', async () => {
    let calls = 0;
    const failures: number[] = [];
    const done = await retryUntilDone(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('database unreachable');
      },
      { giveUp: () => false, onFailure: (_error, count) => failures.push(count) },
    );
    expect({ done, calls, failures }).toEqual({ done: true, calls: 3, failures: [1, 2] });
  });

  it('stops once told to give up', async () => {
    let stopping = false;
    let calls = 0;
    const done = await retryUntilDone(
      async () => {
        calls += 1;
        stopping = calls === 2;
        throw new Error('database unreachable');
      },
      { giveUp: () => stopping, onFailure: () => undefined },
    );
    expect({ done, calls }).toEqual({ done: false, calls: 2 });
  });

  it('waits twice as long after each failure, at most 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(retryDelayMs)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('retryTimes answers the first success, or rejects with the last failure once the attempts are spent', async () => {
    let calls = 0;
    await expect(retryTimes(async () => (++calls < 2 ? Promise.reject(new Error('down')) : 'up'), 3)).resolves.toBe('up');
    expect(calls).toBe(2);
    calls = 0;
    await expect(retryTimes(async () => Promise.reject(new Error(`down ${++calls}`)), 2)).rejects.toThrow('down 2');
  });

  it('logs a failure tried again every few seconds at its first, then about once a minute', () => {
    expect([1, 2, 11, 12, 13, 24].map(isFailureLogged)).toEqual([true, false, false, true, false, true]);
  });
});
