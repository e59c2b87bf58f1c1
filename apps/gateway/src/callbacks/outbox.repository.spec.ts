import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenDatabase } from '../persistence/database.js';
import { OutboxRepository } from './outbox.repository.js';

const dataDir = mkdtempSync(join(tmpdir(), 'mpc-outbox-'));
let database: OpenDatabase;
beforeAll(async () => {
  database = await openDatabase({ dataDir });
});
afterAll(async () => {
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const outbox = new OutboxRepository();
const due = new Date('2026-01-01T00:00:00Z');

/** One pending event for a recording of its own, due `order` ms after the first. */
async function pending(url: string, order: number): Promise<void> {
  const at = new Date(due.getTime() + order);
  await outbox.insert(database.db, {
    recordingId: randomUUID(),
    authId: 'MA0000',
    sequenceNumber: 1,
    eventName: 'MPCRecordingInitiated',
    url,
    method: 'POST',
    params: {},
    nextAttemptAt: at,
    createdAt: at,
  });
}

describe('the outbox', () => {
  it('names each due event\'s receiver by its URL\'s origin, however the URL spells it, and leaves out the receivers it is told to skip', async () => {
    const urls = [
      'http://user:p@ss@Hooks.Example.COM:8080/a/b?x=1#rt=100',
      'https://[2001:DB8::1]:8443/cb',
      'http://hooks.example.com:8080?only=query',
      'https://other.example#ct=100',
      'http://hooks.example.com/path',
      'https://hooks.example.com:443/path',
      // Spellings the WHATWG parser takes, and so the API: the host they go to is the receiver.
      'HTTP:Hooks.example.com:80/cb',
      'http:\\\\hooks.example.com\\cb',
    ];
    for (const [order, url] of urls.entries()) await pending(url, order);
    const later = new Date(due.getTime() + 60_000);
    expect((await outbox.due(database.db, later, 10)).map((event) => event.receiver)).toEqual([
      'http://hooks.example.com:8080',
      'https://[2001:db8::1]:8443',
      'http://hooks.example.com:8080',
      'https://other.example',
      'http://hooks.example.com',
      'https://hooks.example.com',
      'http://hooks.example.com',
      'http://hooks.example.com',
    ]);
    const skipped = ['http://hooks.example.com:8080', 'https://other.example', 'http://hooks.example.com'];
    expect((await outbox.due(database.db, later, 10, skipped)).map((event) => event.url)).toEqual([urls[1], urls[5]]);
  });

  it('logs an attempt once, however often it is logged', async () => {
    const recordingId = randomUUID();
    await outbox.insert(database.db, { recordingId, authId: 'MA0000', sequenceNumber: 1, eventName: 'MPCRecordingInitiated', url: 'http://hooks.example.com/', method: 'POST', params: {}, nextAttemptAt: due, createdAt: due });
    const [event] = await outbox.ofRecording(database.db, 'MA0000', recordingId);
    const attempt = { eventId: event!.event.id, attemptedAt: due, httpStatus: 503, latencyMs: 4, error: null, status: 'pending' as const, attempts: 1, nextAttemptAt: due, finishedAt: null };
    await outbox.recordAttempts(database.db, [attempt]);
    await outbox.recordAttempts(database.db, [attempt]);
    const [logged] = await outbox.ofRecording(database.db, 'MA0000', recordingId);
    expect(logged!.attempts).toHaveLength(1);
    expect(logged!.event.attempts).toBe(1);
  });
});
