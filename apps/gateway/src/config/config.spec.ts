import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('configuration', () => {
  it('has embedded defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      databaseUrl: undefined,
      accounts: [],
      rateLimit: { requests: 300, windowMs: 5000 },
      recordingMediaAuth: false,
    });
    expect(config.dataDir).toMatch(/\.mpc-data$/);
  });

  it('takes an empty or blank value as unset, not as 0', () => {
    const config = loadConfig({ PORT: ' ', RATE_LIMIT_REQUESTS: '\t', RATE_LIMIT_WINDOW_MS: '', MEDIA_JITTER_MS: '  ' });
    expect(config).toMatchObject({ port: 8080, rateLimit: { requests: 300, windowMs: 5000 } });
    expect(config).toEqual(loadConfig({}));
  });

  it('reads accounts and a database URL', () => {
    const config = loadConfig({ ACCOUNTS: 'MA1:0123456789abcdef,MA2:fedcba9876543210', DATABASE_URL: 'postgresql://u:p@db:5432/mpc' });
    expect(config.accounts).toEqual([
      { authId: 'MA1', authToken: '0123456789abcdef' },
      { authId: 'MA2', authToken: 'fedcba9876543210' },
    ]);
    expect(config.databaseUrl).toBe('postgresql://u:p@db:5432/mpc');
  });

  it('gives one callback receiver all but an eighth of the delivery slots by default, and never more than all of them', () => {
    expect(loadConfig({}).callbacks).toEqual({ access: 'none', concurrency: 64, hostConcurrency: 56 });
    expect(loadConfig({ CALLBACK_CONCURRENCY: '5' }).callbacks.hostConcurrency).toBe(4);
    expect(loadConfig({ CALLBACK_CONCURRENCY: '1' }).callbacks.hostConcurrency).toBe(1);
    expect(loadConfig({ CALLBACK_CONCURRENCY: '8', CALLBACK_HOST_CONCURRENCY: '100' }).callbacks.hostConcurrency).toBe(8);
    expect(loadConfig({ CALLBACK_HOST_CONCURRENCY: '10' }).callbacks.hostConcurrency).toBe(10);
  });

  it('keeps files in a directory by default, or in an S3 bucket', () => {
    expect(loadConfig({}).storage).toEqual({ kind: 'fs' });
    expect(loadConfig({ STORAGE: 's3', S3_BUCKET: 'recordings', S3_ENDPOINT: 'http://127.0.0.1:4568', S3_PREFIX: 'mpc/', S3_FORCE_PATH_STYLE: 'true' }).storage).toEqual({
      kind: 's3',
      bucket: 'recordings',
      endpoint: 'http://127.0.0.1:4568',
      region: 'us-east-1',
      prefix: 'mpc/',
      forcePathStyle: true,
      partSizeBytes: 5 * 1024 * 1024,
    });
  });

  it('wants a bucket for S3, and parts S3 accepts', () => {
    expect(() => loadConfig({ STORAGE: 's3' })).toThrow(/S3_BUCKET: is required when STORAGE is s3/);
    expect(() => loadConfig({ STORAGE: 's3', S3_BUCKET: 'b', S3_PART_SIZE_BYTES: String(1024 * 1024) })).toThrow(/S3_PART_SIZE_BYTES/);
    expect(() => loadConfig({ STORAGE: 'gcs' })).toThrow(/STORAGE/);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', ACCOUNTS: 'MA1:short', LOG_LEVEL: 'loud', STORAGE: 's3' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'ACCOUNTS', 'LOG_LEVEL', 'S3_BUCKET']) expect(message).toContain(name);
    // Each line shows the value it refused; a variable that was not given shows none.
    expect(message).toMatch(/^ {2}PORT: .* \(got "eighty"\)$/m);
    expect(message).toMatch(/^ {2}LOG_LEVEL: .* \(got "loud"\)$/m);
    expect(message).toMatch(/^ {2}S3_BUCKET: is required when STORAGE is s3$/m);
    // A URL of the wrong kind is named as such, not as an invalid URL.
    expect(message).toMatch(/^ {2}DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL$/m);
    // Nor does one that may hold a secret.
    expect(message).not.toContain('short');
    expect(message).not.toContain('mysql://x');
  });
});
