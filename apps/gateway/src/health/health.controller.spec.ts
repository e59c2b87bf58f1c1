import type { Response } from 'express';
import { describe, expect, it } from 'vitest';
import type { OpenDatabase } from '../persistence/database.js';
import type { MediaPlane } from '../recordings/recording-observer.js';
import { HealthController, READY_TIMEOUT_MS } from './health.controller.js';

const responseSpy = () => {
  const seen: { status?: number } = {};
  return { seen, response: { status: (code: number) => void (seen.status = code) } as unknown as Response };
};

describe('readiness', () => {
  it('answers 503 when the database does not answer in time, as a server that stopped answering', async () => {
    const database = { ping: () => new Promise<void>(() => undefined) } as unknown as OpenDatabase;
    const { seen, response } = responseSpy();
    const started = performance.now();
    const body = await new HealthController(database, {} as MediaPlane).ready(response);
    expect(performance.now() - started).toBeGreaterThanOrEqual(READY_TIMEOUT_MS - 10);
    expect(seen.status).toBe(503);
    expect(body).toEqual({ status: 'unavailable', database: 'Error: no answer within 2 s' });
  });

  it('answers ok when it does', async () => {
    const database = { ping: async () => undefined } as unknown as OpenDatabase;
    const { seen, response } = responseSpy();
    expect(await new HealthController(database, {} as MediaPlane).ready(response)).toEqual({ status: 'ok', database: 'ok' });
    expect(seen.status).toBeUndefined();
  });
});
