import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import type { Config } from '../config/config.js';
import { FsRecordingStorage, type RecordingStorage } from './recording-storage.js';
import { S3_TIMEOUTS, S3RecordingStorage, createS3Client } from './s3-recording-storage.js';

/** The storage the configuration names: a data directory, or an S3 bucket. */
export function configuredStorage(config: Pick<Config, 'storage' | 'dataDir'>, logger: Logger): RecordingStorage {
  if (config.storage.kind === 's3') {
    const options = { ...config.storage, spoolDir: join(config.dataDir, 'spool') };
    return new S3RecordingStorage(options, createS3Client(options, S3_TIMEOUTS, logger), logger);
  }
  return new FsRecordingStorage(join(config.dataDir, 'recordings'));
}
