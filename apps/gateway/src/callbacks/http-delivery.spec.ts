import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { attemptDelivery } from './http-delivery.js';
import { DEFAULT_RETRY_POLICY } from './retry-policy.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

const delivery = (url: string) => ({ url, method: 'POST' as const, params: { EventName: 'MPCRecordingInitiated' }, authToken: 'token-token-token', policy: DEFAULT_RETRY_POLICY });

describe('attemptDelivery', () => {
  it('answers a URL Node\'s client will not send as a refused attempt, rather than failing', async () => {
    // Stored before such URLs were refused at registration: an attempt that threw left the event due at once, for ever.
    expect(await attemptDelivery(delivery('http://u:%zz@127.0.0.1:9/cb'), 'all')).toEqual({ kind: 'refused', error: expect.stringMatching(/^the request could not be made: /) });
  });

  it('counts a connection the receiver resets after the request came as a read failure, not a connect failure', async () => {
    server = createServer((request) => request.socket.destroy());
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    expect(await attemptDelivery(delivery(`http://127.0.0.1:${port}/cb`), 'all')).toEqual({ kind: 'rt', error: 'ECONNRESET' });
  });
});
