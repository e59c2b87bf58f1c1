import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ApiError } from './error-catalog.js';
import type { Logger } from './logger.js';
import { contextOf } from './request-context.js';
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

/** One structured line per request, naming its api_id, once the response is sent. */
export function requestLog(logger: Logger): RequestHandler {
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const context = contextOf(request);
      logger.info(
        {
          api_id: context.apiId,
          auth_id: context.account?.authId,
          method: request.method,
          path: request.path,
          status: response.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    next();
  };
}
