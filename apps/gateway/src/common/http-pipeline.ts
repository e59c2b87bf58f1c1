import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { parseBasicAuth, type BasicCredentials } from '../accounts/credentials.js';
import type { AccountRow } from '../persistence/schema.js';
import { ApiError } from './error-catalog.js';
import type { Logger } from './logger.js';
import { contextOf } from './request-context.js';
import { refuseUnread, responseUnderWay } from './raw-socket.js';
import { sendError } from './plivo-exception.filter.js';

/**
 * Body parsers for JSON and form bodies on every method (the Node SDK sends JSON even on DELETE),
 * whose failures answer in Plivo's error shape instead of Express's HTML page.
 */
export function bodyParsers(limitBytes: number): RequestHandler[] {
  const parsers = [
    express.json({ limit: limitBytes, type: ['application/json', 'application/*+json'] }),
    express.urlencoded({ limit: limitBytes, extended: false }),
  ];
  return parsers.map((parse) => (request: Request, response: Response, next: NextFunction) => {
    parse(request, response, (error?: unknown) => {
      if (!error) return next();
      const failure = error as { type?: string; status?: number };
      const apiError =
        failure.type === 'entity.too.large'
          ? new ApiError('body_too_large', `request body larger than ${limitBytes} bytes`)
          : new ApiError('malformed_body');
      sendError(request, response, apiError);
    });
  });
}

/**
 * Refuses a request that carries a body without valid credentials before the body is read: parsing
 * bodies is the costliest thing a caller without credentials could make the gateway do. No route
 * that takes a body is public. The connection is closed rather than the body read to its end.
 */
export function credentialsBeforeBodies(authenticate: (credentials: BasicCredentials) => Promise<AccountRow | undefined>): RequestHandler {
  return (request, response, next) => {
    const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    if (!hasBody) return next();
    const refuse = () => {
      response.setHeader('Connection', 'close');
      sendError(request, response, new ApiError('authentication_failed'));
    };
    const credentials = parseBasicAuth(request.headers.authorization);
    if (!credentials) return refuse();
    authenticate(credentials).then((account) => {
      if (!account) return refuse();
      // The route's guard takes it from here rather than authenticating again.
      contextOf(request).account = account;
      next();
    }, next);
  };
}

/** One structured line per request, naming its api_id, once the response is sent or the client has gone. */
export function requestLog(logger: Logger): RequestHandler {
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    response.on('close', () => {
      const context = contextOf(request);
      logger.info(
        {
          api_id: context.apiId,
          auth_id: context.account?.authId,
          method: request.method,
          path: request.path,
          status: response.statusCode,
          ...(context.error && { error: context.error }),
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          ...(!response.writableFinished && { aborted: true }),
        },
        'request',
      );
    });
    next();
  };
}

/**
 * Holds requests, and stream upgrades, until the gateway has finished starting, then lets them on
 * in the order they came: before that, what a crash left unfinished is not recovered yet, and an
 * answer could act on it (start recording would answer with a recording that is about to be
 * finished, a stream could take over a participant about to be hung up). Liveness passes.
 */
export function startupGate(server: Server): { hold: RequestHandler; open(): void } {
  let open = false;
  let release!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  const upgrades = new Set<[IncomingMessage, Duplex, Buffer]>();
  const holdUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const held: [IncomingMessage, Duplex, Buffer] = [request, socket, head];
    upgrades.add(held);
    // Node leaves an upgraded socket without an error listener: a client giving up would end the process.
    const drop = () => upgrades.delete(held);
    socket.on('error', drop);
    socket.once('close', drop);
  };
  server.on('upgrade', holdUpgrade);
  return {
    hold: (request, _response, next) => {
      if (open || request.path === '/health/live') return next();
      void opened.then(() => next());
    },
    /** Once the streams' own upgrade handler is attached. */
    open: () => {
      open = true;
      release();
      server.off('upgrade', holdUpgrade);
      for (const [request, socket, head] of upgrades) server.emit('upgrade', request, socket, head);
      upgrades.clear();
    },
  };
}

/** What Node's HTTP parser refused, as the error catalog names it. */
function clientErrorOf(code: string | undefined): ApiError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError('headers_too_large');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new ApiError('body_too_large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError('request_timeout');
    default:
      return new ApiError('malformed_request');
  }
}

/**
 * A request Node's HTTP parser refuses before any handler sees it (headers over 16 KiB, a method it
 * does not know, no HTTP at all) is answered in Plivo's body too, rather than with a bare status line.
 */
export function answerClientErrors(server: Server, logger: Logger): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Nothing can be answered on a socket that is gone, or in the middle of another response.
    if (error.code === 'ECONNRESET' || !socket.writable || responseUnderWay(socket)?.headersSent) return void socket.destroy();
    const refused = clientErrorOf(error.code);
    const apiId = refuseUnread(socket, refused);
    logger.info({ api_id: apiId, status: refused.status, error: refused.code, reason: error.code ?? error.message }, 'request refused unread');
  });
}
