import { describe, expect, it } from 'vitest';
import { shardIndex } from './shard-placement.js';

describe('shardIndex', () => {
  it('gives the same shard for the same key, within range', () => {
    for (const count of [1, 2, 3, 8]) {
      const index = shardIndex('MAACCOUNT/sales-call', count);
      expect(index).toBe(shardIndex('MAACCOUNT/sales-call', count));
      expect(index).toBeGreaterThanOrEqual(0);
      expect(index).toBeLessThan(count);
    }
  });

  it('matches FNV-1a', () => {
    // FNV-1a 32-bit of "a" is 0xe40c292c; of "foobar", 0xbf9cf968.
    expect(shardIndex('a', 2 ** 32 - 1)).toBe(0xe40c292c % (2 ** 32 - 1));
    expect(shardIndex('foobar', 1000)).toBe(0xbf9cf968 % 1000);
  });

  it('spreads many MPCs evenly over the shards', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i += 1) counts[shardIndex(`MAACCOUNT/mpc-${i}`, 4)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(850);
  });
});
