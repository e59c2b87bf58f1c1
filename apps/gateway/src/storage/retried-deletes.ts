import type { Logger } from '../common/logger.js';
import { retryTimes } from '../common/retry.js';
import { storageWith, type RecordingStorage } from './recording-storage.js';

/** How many more times a refused delete is tried, over about half a minute. */
const DELETE_RETRIES = 8;

/**
 * `storage`, whose deletes never fail their caller: a recording's row is gone by then, and its
 * DELETE must not answer 5xx for what it did. A delete the store refuses (a file system gone
 * read-only, a bucket out of reach) is tried again in the background, and one it never takes is
 * logged as an error naming the file, for an operator to remove.
 */
export function withRetriedDeletes(storage: RecordingStorage, logger: Logger): RecordingStorage {
  return storageWith(storage, {
    // The first attempt is awaited: as a rule, a file is gone when its DELETE is answered.
    async delete(key) {
      try {
        await storage.delete(key);
      } catch (error) {
        logger.warn({ err: error, key }, 'deleting a recording file failed; trying again in the background');
        void retryTimes(() => storage.delete(key), DELETE_RETRIES).catch((last: unknown) =>
          logger.error({ err: last, key }, "a deleted recording's file could not be removed; remove it by hand"),
        );
      }
    },
  });
}
