import { describe, expect, it } from 'vitest';
import { retryDelayMs, retryUntilDone } from './retry.js';

describe('retryUntilDone', () => {
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
});
