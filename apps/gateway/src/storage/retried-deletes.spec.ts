import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { RecordingStorage } from './recording-storage.js';
import { withRetriedDeletes } from './retried-deletes.js';

/** A storage whose first `refusals` deletes fail, as a read-only file system's do. */
function refusingStorage(refusals: number) {
  const deletes: string[] = [];
  const storage = {
    delete: async (key: string) => {
      deletes.push(key);
      if (deletes.length <= refusals) throw Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' });
    },
  } as RecordingStorage;
  return { storage, deletes };
}

describe('withRetriedDeletes', () => {
  it('answers a delete the store refuses without failing, and tries it again until the store takes it', async () => {
    const { storage, deletes } = refusingStorage(2);
    await expect(withRetriedDeletes(storage, pino({ level: 'silent' })).delete('MA1/r.wav')).resolves.toBeUndefined();
    await vi.waitFor(() => expect(deletes).toHaveLength(3), { timeout: 3000 });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(deletes).toHaveLength(3);
  });

  it('deletes at once when the store takes it', async () => {
    const { storage, deletes } = refusingStorage(0);
    await withRetriedDeletes(storage, pino({ level: 'silent' })).delete('MA1/r.wav');
    expect(deletes).toEqual(['MA1/r.wav']);
  });
});
