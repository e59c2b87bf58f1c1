import { describe, expect, it } from 'vitest';
import { WriteBatch } from './recording-storage.js';

describe('WriteBatch', () => {
  it('holds chunks until they are big enough, then gives them as one, in order', () => {
    const batch = new WriteBatch(10, 1000, () => 0);
    expect(batch.add(Uint8Array.of(1, 2, 3))).toBe(false);
    expect(batch.add(Uint8Array.of(4, 5, 6))).toBe(false);
    expect(batch.add(Uint8Array.of(7, 8, 9, 10))).toBe(true);
    expect([...batch.take()!]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(batch.take()).toBeUndefined();
  });

  it('asks for a write once its oldest chunk has waited long enough', () => {
    let now = 0;
    const batch = new WriteBatch(1 << 20, 1000, () => now);
    expect(batch.add(Uint8Array.of(1))).toBe(false);
    now = 999;
    expect(batch.add(Uint8Array.of(2))).toBe(false);
    now = 1000;
    expect(batch.add(Uint8Array.of(3))).toBe(true);
    expect([...batch.take()!]).toEqual([1, 2, 3]);
    now = 1500;
    expect(batch.add(Uint8Array.of(4))).toBe(false); // its age counts from its own first chunk
  });
});
