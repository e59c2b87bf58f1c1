import type { Logger } from '../common/logger.js';
import type { RecordingStorage } from '../storage/recording-storage.js';
import { inlineEncoders } from './audio-encoder.js';
import { EncoderThreads } from './encoder-threads.js';
import { RecorderService } from './recorder.service.js';

/** The recorder's mixing tick: short enough for a small jitter window, long enough to batch work. */
const TICK_MS = 40;

/** A recorder writing to `storage`, encoding on `encoderThreads` worker threads (0: on the event loop). */
export function createRecorder(storage: RecordingStorage, logger: Logger, options: { jitterMs: number; encoderThreads: number }): RecorderService {
  const encoders = options.encoderThreads > 0 ? new EncoderThreads(options.encoderThreads, logger) : inlineEncoders;
  return new RecorderService(storage, encoders, logger, { jitterMs: options.jitterMs, tickMs: TICK_MS });
}
