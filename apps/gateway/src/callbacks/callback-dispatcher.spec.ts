import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { Database } from '../persistence/database.js';
import { DatabaseConnectionError } from '../persistence/database-unreachable.js';
import { CallbackDispatcher } from './callback-dispatcher.js';
import type { OutboxRepository } from './outbox.repository.js';

describe('the callback dispatcher while the database cannot be reached', () => {
  it('says so once, not at every poll, and says when the database answers again', async () => {
    let outage = true;
    let polls = 0;
    const outbox = {
      due: async () => {
        polls += 1;
        if (outage) throw new DatabaseConnectionError(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
        return [];
      },
    } as unknown as OutboxRepository;
    const logged: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const dispatcher = new CallbackDispatcher({} as Database, outbox, {} as AccountsService, logger, { pollMs: 5, concurrency: 4, access: 'none' });
    dispatcher.start();
    try {
      await expect.poll(() => polls).toBeGreaterThan(5);
      outage = false;
      await expect.poll(() => logged.map((line) => line.msg)).toContain('the database answers again; callback poll goes on');
    } finally {
      await dispatcher.stop();
    }
    expect(logged.map(({ level, msg }) => [level, msg])).toEqual([
      [40, 'callback poll waits: the database cannot be reached; it goes on once the database answers'],
      [30, 'the database answers again; callback poll goes on'],
    ]);
  });
});
