import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../common/logger.js';
import { storeWaitingFiles } from './waiting-files.js';

/** A logger that notes each line's level and message. */
function notingLogger() {
  const lines: string[] = [];
  const note = (level: string) => (_fields: unknown, message?: string) => void lines.push(`${level}: ${message}`);
  return { logger: { info: note('info'), warn: note('warn'), error: note('error') } as unknown as Logger, lines };
}

describe('storeWaitingFiles', () => {
  it('tries the waiting files again until they are stored, saying once that they wait and then that they were stored', async () => {
    const { logger, lines } = notingLogger();
    let waiting = 1;
    let passes = 0;
    const recordings = {
      get waitingForStorage() {
        return waiting;
      },
      storeWaiting: vi.fn(async () => {
        passes += 1;
        if (passes < 3) return { completed: [], failed: [], still: [{ recording_id: 'r1', reason: 'connect ECONNREFUSED' }] };
        waiting = 0;
        return { completed: ['r1'], failed: [], still: [] };
      }),
    };
    const retries = storeWaitingFiles(recordings, logger, 10);
    await vi.waitFor(() => expect(passes).toBe(3));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await retries.stop();
    expect(passes).toBe(3);
    expect(lines).toEqual([
      'warn: recording files wait for storage to take them; trying again',
      'info: recording files that waited for storage are stored; their recordings are complete',
    ]);
  });

  it('does nothing while no file waits, and waits for the pass under way when stopped', async () => {
    const { logger } = notingLogger();
    let waiting = 0;
    let finishPass!: () => void;
    const recordings = {
      get waitingForStorage() {
        return waiting;
      },
      storeWaiting: vi.fn(() => new Promise<{ completed: string[]; failed: string[]; still: [] }>((resolve) => (finishPass = () => resolve({ completed: ['r2'], failed: [], still: [] })))),
    };
    const retries = storeWaitingFiles(recordings, logger, 10);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(recordings.storeWaiting).not.toHaveBeenCalled();
    waiting = 1;
    await vi.waitFor(() => expect(recordings.storeWaiting).toHaveBeenCalledTimes(1));
    let stopped = false;
    const stopping = retries.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stopped).toBe(false);
    finishPass();
    await stopping;
    expect(recordings.storeWaiting).toHaveBeenCalledTimes(1);
  });
});
