import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { FsRecordingStorage, type RecordingStorage } from './recording-storage.js';
import { S3RecordingStorage } from './s3-recording-storage.js';

/** The storage the configuration names: a data directory, or an S3 bucket. */
export function configuredStorage(config: Pick<Config, 'storage' | 'dataDir'>): RecordingStorage {
  if (config.storage.kind === 's3') return new S3RecordingStorage({ ...config.storage, spoolDir: join(config.dataDir, 'spool') });
  return new FsRecordingStorage(join(config.dataDir, 'recordings'));
}
