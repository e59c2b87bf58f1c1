import { createServer, type Server } from 'node:http';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { Database } from '../persistence/database.js';
import { DatabaseConnectionError } from '../persistence/database-unreachable.js';
import { CallbackDispatcher } from './callback-dispatcher.js';
import type { CallbackEventRow } from '../persistence/schema.js';
import type { OutboxRepository } from './outbox.repository.js';

const OUTAGE_LINES = [
  [40, 'callback poll waits: the database cannot be reached; it goes on once the database answers'],
  [30, 'the database answers again; callback poll goes on'],
];

/** The first pending event of a recording of its own, for a receiver on loopback at `port`. */
function dueEvent(id: number, port: number): CallbackEventRow {
  return {
    id,
    recordingId: `r-${id}`,
    authId: 'MA0000',
    sequenceNumber: 1,
    eventName: 'MPCRecordingInitiated',
    url: `http://127.0.0.1:${port}/events`,
    receiver: `http://127.0.0.1:${port}`,
    method: 'POST',
    params: {},
    status: 'pending',
    attempts: 0,
    nextAttemptAt: new Date(),
    createdAt: new Date(),
    finishedAt: null,
  };
}

/** A dispatcher whose outbox first hands out `first`, then fails as a database out of reach until told otherwise. */
async function dispatcherThroughOutage(first: CallbackEventRow[]) {
  let outage = true;
  let polls = 0;
  const outbox = {
    due: async () => {
      polls += 1;
      if (polls === 1) return first;
      if (outage) throw new DatabaseConnectionError(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
      return [];
    },
  } as unknown as OutboxRepository;
  const accounts = { find: async () => ({ authToken: 'a-token-of-sixteen' }) } as unknown as AccountsService;
  const logged: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const dispatcher = new CallbackDispatcher({} as Database, outbox, accounts, logger, { pollMs: 5, concurrency: 4, hostConcurrency: 2, access: 'loopback' });
  dispatcher.start();
  try {
    await expect.poll(() => polls).toBeGreaterThan(10);
    outage = false;
    await expect.poll(() => logged.map((line) => line.msg)).toContain(OUTAGE_LINES[1]![1]);
  } finally {
    await dispatcher.stop();
  }
  return logged.filter((line) => /database/.test(line.msg)).map(({ level, msg }) => [level, msg]);
}

describe('the callback dispatcher while the database cannot be reached', () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((server) => server.close()));

  it('says so once, not at every poll, and says when the database answers again', async () => {
    expect(await dispatcherThroughOutage([])).toEqual(OUTAGE_LINES);
  });

  it('says the same with a delivery in flight, whose polls skip the database until it is done', async () => {
    const silent = createServer(() => undefined);
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const slow = dueEvent(1, port);
    expect(await dispatcherThroughOutage([slow])).toEqual(OUTAGE_LINES);
  });
});

describe('the callback dispatcher while attempts cannot be logged', () => {
  it('sends the event once, and logs its attempt once the database takes it', async () => {
    let requests = 0;
    const receiver = createServer((request, response) => {
      requests += 1;
      request.resume().on('end', () => response.end('OK'));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as { port: number };
    const event = dueEvent(7, port);
    // A database whose disk is full: it reads, but takes no write until the third.
    let writes = 0;
    let logged = false;
    const outbox = {
      due: async () => (logged ? [] : [event]),
      recordAttempts: async () => {
        writes += 1;
        if (writes < 3) throw Object.assign(new Error('could not extend file "base/5/16423": No space left on device'), { code: '53100', severity: 'ERROR' });
        logged = true;
      },
    } as unknown as OutboxRepository;
    const accounts = { find: async () => ({ authToken: 'a-token-of-sixteen' }) } as unknown as AccountsService;
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line).msg) });
    const dispatcher = new CallbackDispatcher({} as Database, outbox, accounts, logger, { pollMs: 5, concurrency: 4, hostConcurrency: 2, access: 'loopback' });
    dispatcher.start();
    try {
      await expect.poll(() => logged, { timeout: 5000 }).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(requests).toBe(1);
      expect(writes).toBe(3);
      // Said once, and once more when the database takes writes again: not at every try.
      expect(lines.filter((line) => /logging callback attempts|takes writes/.test(line))).toEqual([
        'logging callback attempts waits: the database has no room left on its disk; it goes on once it has',
        'the database takes writes again; logging callback attempts goes on',
      ]);
    } finally {
      await dispatcher.stop();
      receiver.close();
    }
  });
});

describe('the callback dispatcher while it stops', () => {
  it('logs an attempt that ends during the stop\'s grace as it ends, while another is still in flight', async () => {
    const listening = async (answer: (response: import('node:http').ServerResponse) => void) => {
      const server = createServer((request, response) => request.resume().on('end', () => answer(response)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { server, port: (server.address() as { port: number }).port };
    };
    const late = await listening((response) => void setTimeout(() => response.end('OK'), 300));
    const hanging = await listening(() => undefined);
    const arrived: number[] = [];
    late.server.on('request', () => arrived.push(1));
    hanging.server.on('request', () => arrived.push(2));
    const logged: number[] = [];
    let handedOut = false;
    const outbox = {
      due: async () => (handedOut ? [] : ((handedOut = true), [dueEvent(1, late.port), dueEvent(2, hanging.port)])),
      recordAttempts: async (_db: unknown, results: { eventId: number }[]) => void logged.push(...results.map((result) => result.eventId)),
    } as unknown as OutboxRepository;
    const accounts = { find: async () => ({ authToken: 'a-token-of-sixteen' }) } as unknown as AccountsService;
    const dispatcher = new CallbackDispatcher({} as Database, outbox, accounts, pino({ level: 'silent' }), { pollMs: 5, concurrency: 4, hostConcurrency: 4, access: 'loopback' });
    dispatcher.start();
    await expect.poll(() => arrived.length).toBe(2);
    let stopped = false;
    const stopping = dispatcher.stop().then(() => (stopped = true));
    try {
      await expect.poll(() => logged, { timeout: 1500 }).toEqual([1]);
      expect(stopped).toBe(false);
    } finally {
      await stopping;
      late.server.close();
      hanging.server.closeAllConnections();
      hanging.server.close();
    }
  });
});
