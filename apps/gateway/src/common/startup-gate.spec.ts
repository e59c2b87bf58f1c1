import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startupGate } from './http-pipeline.js';

const server = createServer();
afterEach(() => new Promise((resolve) => server.close(resolve)));

const upgradeRequest = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`;

async function client(path: string): Promise<Socket> {
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(upgradeRequest(path));
  return socket;
}

describe('startupGate', () => {
  it('holds stream upgrades until it opens, then hands on those whose clients are still there, surviving those that gave up', async () => {
    const gate = startupGate(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const gaveUp = await client('/gave-up');
    await new Promise((resolve) => setTimeout(resolve, 50));
    gaveUp.resetAndDestroy(); // an ECONNRESET on the held socket, which has no listener of Node's own any more
    const waiting = await client('/waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));

    const handed: string[] = [];
    server.on('upgrade', (request: IncomingMessage, socket) => {
      handed.push(request.url!);
      socket.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    });
    gate.open();
    const answer = await new Promise<string>((resolve) => waiting.once('data', (chunk) => resolve(chunk.toString())));
    expect(answer).toMatch(/^HTTP\/1\.1 101/);
    expect(handed).toEqual(['/waiting']);
    waiting.destroy();
  });
});
