import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { attemptDelivery, IDLE_CONNECTION_MS } from './http-delivery.js';
import { DEFAULT_RETRY_POLICY } from './retry-policy.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** Serves on loopback; answers each request as `answer` says, given how many came before it on its connection. */
async function receiver(answer: (request: IncomingMessage, response: ServerResponse, onConnection: number) => void): Promise<{ url: string; nonces: string[] }> {
  const nonces: string[] = [];
  const counts = new WeakMap<object, number>();
  server = createServer((request, response) => {
    nonces.push(String(request.headers['x-plivo-signature-v3-nonce']));
    const before = counts.get(request.socket) ?? 0;
    counts.set(request.socket, before + 1);
    request.resume().on('end', () => answer(request, response, before));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/cb`, nonces };
}

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

  it('sends again, freshly signed, on a new connection when a kept-alive one is reset before its answer', async () => {
    // A receiver that drops idle connections: the second request on one is reset.
    const { url, nonces } = await receiver((request, response, before) => (before === 0 ? response.end('OK') : request.socket.destroy()));
    expect(await attemptDelivery(delivery(url), 'all')).toEqual({ kind: 'status', status: 200 });
    expect(await attemptDelivery(delivery(url), 'all')).toEqual({ kind: 'status', status: 200 });
    expect(nonces).toHaveLength(3);
    expect(new Set(nonces).size).toBe(3);
  });

  it('closes a kept-alive connection left idle for IDLE_CONNECTION_MS, which the receiver never closes', { timeout: IDLE_CONNECTION_MS + 5000 }, async () => {
    const { url } = await receiver((_request, response) => response.end('OK'));
    server!.keepAliveTimeout = 0;
    const closed: number[] = [];
    const opened = performance.now();
    server!.on('connection', (socket) => socket.on('close', () => closed.push(performance.now() - opened)));
    expect(await attemptDelivery(delivery(url), 'all')).toEqual({ kind: 'status', status: 200 });
    await new Promise((resolve) => setTimeout(resolve, IDLE_CONNECTION_MS + 1500));
    expect(closed).toHaveLength(1);
    expect(closed[0]).toBeGreaterThan(IDLE_CONNECTION_MS - 100);
  });

  it('counts a reset on the new connection too as a read failure, which rp=ct does not retry', async () => {
    let answered = false;
    const { url, nonces } = await receiver((request, response) => {
      if (answered) return request.socket.destroy();
      answered = true;
      response.end('OK');
    });
    expect(await attemptDelivery(delivery(url), 'all')).toEqual({ kind: 'status', status: 200 });
    expect(await attemptDelivery(delivery(url), 'all')).toEqual({ kind: 'rt', error: 'ECONNRESET' });
    expect(nonces).toHaveLength(3);
  });
});
