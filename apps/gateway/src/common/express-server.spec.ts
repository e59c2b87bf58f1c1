import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { ExpressServerAdapter } from './express-server.js';

describe('ExpressServerAdapter', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it("makes requests and responses with Express's prototypes already, so Express does not change them", async () => {
    const adapter = new ExpressServerAdapter();
    adapter.initHttpServer({});
    const app = adapter.getInstance<Express>();
    server = adapter.getHttpServer() as Server;
    const asMade: { request?: object | null; response?: object | null } = {};
    // Runs before Express takes the request.
    server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
      asMade.request = Object.getPrototypeOf(request) as object | null;
      asMade.response = Object.getPrototypeOf(response) as object | null;
    });
    app.get('/probe', (request, response) => {
      response.status(201).json({ host: request.get('host'), app: request.app === app, sameRequest: Object.getPrototypeOf(request) === asMade.request });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const answer = await fetch(`http://127.0.0.1:${port}/probe`);

    expect(answer.status).toBe(201);
    expect(await answer.json()).toEqual({ host: `127.0.0.1:${port}`, app: true, sameRequest: true });
    expect(asMade.request).toBe(app.request);
    expect(asMade.response).toBe(app.response);
  });
});
