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

  it('reads accounts and a database URL', () => {
    const config = loadConfig({ ACCOUNTS: 'MA1:0123456789abcdef,MA2:fedcba9876543210', DATABASE_URL: 'postgresql://u:p@db:5432/mpc' });
    expect(config.accounts).toEqual([
      { authId: 'MA1', authToken: '0123456789abcdef' },
      { authId: 'MA2', authToken: 'fedcba9876543210' },
    ]);
    expect(config.databaseUrl).toBe('postgresql://u:p@db:5432/mpc');
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', ACCOUNTS: 'MA1:short', LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'ACCOUNTS', 'LOG_LEVEL']) expect(message).toContain(name);
  });
});
