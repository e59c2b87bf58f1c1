import { describe, expect, it } from 'vitest';
import { WriteBatch } from './recording-storage.js';

describe('WriteBatch', () => {
  it('holds chunks until they are big enough, then gives them as one, in order', () => {
    const batch = new WriteBatch(10);
    expect(batch.add(Uint8Array.of(1, 2, 3))).toBe(false);
    expect(batch.add(Uint8Array.of(4, 5, 6))).toBe(false);
    expect(batch.add(Uint8Array.of(7, 8, 9, 10))).toBe(true);
    expect([...batch.take()!]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(batch.take()).toBeUndefined();
  });
});
