import { describe, expect, it } from 'vitest';
import { writeFully } from './recording-storage.js';

/** A file that takes at most `most` bytes a write, and fails once `room` bytes are taken, as a filling disk does. */
function fillingFile(most: number, room = Infinity) {
  const bytes: number[] = [];
  const handle = {
    write: async (data: Uint8Array, offset: number, length: number, position: number) => {
      if (bytes.length >= room) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      const taken = Math.min(most, length, room - bytes.length);
      for (let index = 0; index < taken; index += 1) bytes[position + index] = data[offset + index]!;
      return { bytesWritten: taken, buffer: data };
    },
  };
  return { handle: handle as never, bytes };
}

describe('writeFully', () => {
  it('writes what a short write left, at the right place, until all of it is written', async () => {
    const file = fillingFile(3);
    await writeFully(file.handle, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 2);
    expect(file.bytes.slice(2)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('fails with the error the write after a short one meets', async () => {
    const file = fillingFile(64, 5);
    await expect(writeFully(file.handle, new Uint8Array(8), 0)).rejects.toMatchObject({ code: 'ENOSPC' });
  });
});
