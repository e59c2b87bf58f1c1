import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { answerClientErrors } from '../common/http-pipeline.js';
import type { Logger } from '../common/logger.js';
import { serveIgnoringUpgrade } from '../common/upgrade-ignored.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

async function listen(options: Parameters<typeof createServer>[0], handler: Parameters<typeof createServer>[1]): Promise<number> {
  server = createServer(options, handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** Writes `chunks` (100 ms apart) and answers what came back within `waitMs`. */
function exchange(port: number, chunks: string[], waitMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (data) => (answer += data.toString('latin1')));
    socket.on('error', () => undefined);
    void (async () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, waitMs);
  });
}

/** The status lines in what came back (a body without a final line break runs into the next one). */
const statusLines = (answer: string) => answer.match(/HTTP\/1\.1 \d{3}[^\r]*/g) ?? [];

describe('serveIgnoringUpgrade', () => {
  const withUpgrade = async () => {
    const port = await listen({}, (request, response) => {
      // A handler that takes a moment, as any database-backed route does.
      setTimeout(() => response.end(`${request.method} ${request.url}\n`), 50);
    });
    server!.on('upgrade', (request, socket, head) => serveIgnoringUpgrade(server!, request, socket, head));
    return port;
  };

  it('answers an Upgrade request pipelined behind another request', async () => {
    const port = await withUpgrade();
    const answer = await exchange(port, ['GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n']);
    // The second waits for the first's response, rather than run with its own answer lost.
    expect(statusLines(answer)).toHaveLength(2);
  });

  it('refuses an Upgrade request with more headers than Node keeps, so its body cannot pass for another request', async () => {
    const port = await withUpgrade();
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
    const junk = Array.from({ length: 2000 }, (_, i) => `a${i}: b\r\n`).join('');
    const answer = await exchange(port, [`POST /upload HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n${junk}Content-Length: ${smuggled.length}\r\n\r\n${smuggled}`]);
    // Written again from the headers Node kept, the body would pass for a request of its own.
    expect(answer).not.toContain('GET /smuggled');
    expect(statusLines(answer)).toEqual(['HTTP/1.1 431 Request Header Fields Too Large']);
  });
});

describe('serveIgnoringUpgrade, when the client resets', () => {
  /** Runs `work`, and answers the errors it let go uncaught. */
  async function uncaughtDuring(work: () => Promise<void>): Promise<string[]> {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    try {
      await work();
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
    return uncaught.map(String);
  }

  it('ends the socket quietly while its request waits behind a pipelined response', async () => {
    const port = await listen({}, (_request, response) => {
      // A response that streams for a while.
      response.writeHead(200);
      const timer = setInterval(() => response.write('x'.repeat(16_384)), 10);
      response.on('close', () => clearInterval(timer));
      setTimeout(() => response.end(), 1500);
    });
    server!.on('upgrade', (request, socket, head) => serveIgnoringUpgrade(server!, request, socket, head));
    const uncaught = await uncaughtDuring(async () => {
      const client = connect(port, '127.0.0.1');
      client.on('error', () => undefined);
      client.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
      await new Promise((resolve) => setTimeout(resolve, 200));
      client.resetAndDestroy();
      await new Promise((resolve) => setTimeout(resolve, 500));
    });
    expect(uncaught).toEqual([]);
  });

  it('ends the socket quietly while its refusal of too many headers is written', async () => {
    const port = await listen({}, (_request, response) => response.end('ok'));
    server!.on('upgrade', (request, socket, head) => serveIgnoringUpgrade(server!, request, socket, head));
    const junk = Array.from({ length: 2000 }, (_, i) => `a${i}: b\r\n`).join('');
    const uncaught = await uncaughtDuring(async () => {
      for (let round = 0; round < 20; round += 1) {
        const client = connect(port, '127.0.0.1');
        client.on('error', () => undefined);
        await new Promise((resolve) => client.once('connect', resolve));
        client.write(`GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n${junk}\r\n`, () => client.resetAndDestroy());
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    });
    expect(uncaught).toEqual([]);
  });
});

describe('answerClientErrors', () => {
  it('answers 431 to oversized headers on a keep-alive connection, as Node does', async () => {
    const port = await listen({}, (_request, response) => response.end('ok'));
    answerClientErrors(server!, silent);
    const answer = await exchange(port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`]);
    expect(statusLines(answer)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 431 Request Header Fields Too Large']);
  });

  it('answers 408 to a keep-alive connection\'s second request that times out, as Node does', async () => {
    const port = await listen({ headersTimeout: 500, requestTimeout: 800, connectionsCheckingInterval: 50 }, (_request, response) => response.end('ok'));
    answerClientErrors(server!, silent);
    const answer = await exchange(port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n'], 2500);
    expect(statusLines(answer)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 408 Request Timeout']);
  });

  it('closes the socket of a refused request, as Node does, rather than leaving it half open', async () => {
    const port = await listen({}, (_request, response) => response.end('ok'));
    answerClientErrors(server!, silent);
    const client = connect(port, '127.0.0.1');
    client.on('data', () => undefined);
    client.on('end', () => undefined); // the client leaves its side open
    client.allowHalfOpen = true;
    client.write('FOO / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 500));
    const open = await new Promise<number>((resolve) => server!.getConnections((_error, count) => resolve(count)));
    client.destroy();
    // Else it stays until the headers timeout (60 s by default).
    expect(open).toBe(0);
  });
});
