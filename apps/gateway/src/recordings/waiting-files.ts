import type { Logger } from '../common/logger.js';
import { isFailureLogged } from '../common/retry.js';
import type { RecordingsService } from './recordings.service.js';

/** How often the files waiting for storage are tried again. */
export const WAITING_FILES_RETRY_MS = 5000;

/**
 * Stores, every few seconds, the files of recordings stopped while storage could not take them (a
 * bucket out of reach at a restart, or when a media shard died), saying in the log which still wait
 * and which were stored.
 */
export function storeWaitingFiles(recordings: Pick<RecordingsService, 'storeWaiting' | 'waitingForStorage'>, logger: Logger, everyMs = WAITING_FILES_RETRY_MS) {
  let failedPasses = 0;
  let pass: Promise<void> | undefined;
  const run = () => {
    if (pass || recordings.waitingForStorage === 0) return;
    pass = recordings
      .storeWaiting()
      .then(({ completed, failed, still }) => {
        if (completed.length > 0) logger.info({ recordings: completed }, 'recording files that waited for storage are stored; their recordings are complete');
        if (failed.length > 0) logger.warn({ recordings: failed }, 'recordings that waited for storage had no usable audio there; they failed');
        if (still.length === 0) return void (failedPasses = 0);
        failedPasses += 1;
        if (isFailureLogged(failedPasses)) logger.warn({ recordings: still }, 'recording files wait for storage to take them; trying again');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'storing the files that wait for storage failed'))
      .finally(() => (pass = undefined));
  };
  run();
  const timer = setInterval(run, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await pass;
    },
  };
}
