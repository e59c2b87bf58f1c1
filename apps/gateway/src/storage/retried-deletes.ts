import type { Logger } from '../common/logger.js';
import { retryDelayMs } from '../common/retry.js';
import type { RecordingStorage } from './recording-storage.js';

/** How many times a refused delete is tried in all, over about half a minute. */
const DELETE_ATTEMPTS = 8;

/**
 * `storage`, whose deletes never fail their caller: a recording's row is gone by then, and its
 * DELETE must not answer 5xx for what it did. A delete the store refuses (a file system gone
 * read-only, a bucket out of reach) is tried again in the background, and one it never takes is
 * logged as an error naming the file, for an operator to remove.
 */
export function withRetriedDeletes(storage: RecordingStorage, logger: Logger): RecordingStorage {
  const attempt = async (key: string, failures: number): Promise<void> => {
    try {
      await storage.delete(key);
    } catch (error) {
      if (failures + 1 >= DELETE_ATTEMPTS) {
        logger.error({ err: error, key }, 'a deleted recording\'s file could not be removed; remove it by hand');
        return;
      }
      logger.warn({ err: error, key, failures: failures + 1 }, 'deleting a recording file failed; trying again');
      setTimeout(() => void attempt(key, failures + 1), retryDelayMs(failures + 1)).unref();
    }
  };
  return {
    create: (key) => storage.create(key),
    partial: (key) => storage.partial(key),
    get: (key) => storage.get(key),
    // The first attempt is awaited: as a rule, a file is gone when its DELETE is answered.
    delete: (key) => attempt(key, 0),
  };
}
