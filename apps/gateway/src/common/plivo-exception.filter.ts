import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { methodsAllowedOn, unservedReason } from './contract-paths.js';
import { ApiError, knownApiError } from './error-catalog.js';
import { LogThrottle } from './log-throttle.js';
import type { Logger } from './logger.js';
import { reasonOf } from './reason-of.js';
import { contextOf } from './request-context.js';

export function sendError(request: Request, response: Response, error: ApiError): void {
  if (response.headersSent) return;
  const context = contextOf(request);
  if (context) context.error = error.code;
  if (error.code === 'method_not_allowed') response.setHeader('Allow', methodsAllowedOn(request.path).join(', '));
  if (error.retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(error.retryAfterSeconds));
  response.status(error.status).json({ api_id: context?.apiId ?? '', error: error.message });
}

/** Turns whatever a handler threw into Plivo's `{api_id, error}` body. */
@Catch()
export class PlivoExceptionFilter implements ExceptionFilter {
  /** A 503's warning, once per 10 s for the same reason. */
  private readonly outages = new LogThrottle<{ message: string; reason: string }>(10_000, ({ message, reason }, held) =>
    this.logger.warn({ reason, requests: held, within_ms: 10_000 }, `more requests failed the same way: ${message}`),
  );

  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    sendError(request, response, this.toApiError(exception, request));
  }

  private toApiError(exception: unknown, request: Request): ApiError {
    const known = knownApiError(exception);
    // A service out of reach: the gateway's answer is right, and what the service said is for the log.
    if (known?.status === 503) this.logOutage(known, reasonOf(exception), request);
    if (known) return known;
    if (exception instanceof HttpException && exception.getStatus() === 404) {
      // Nest's answer for a path no route matched.
      return methodsAllowedOn(request.path).length > 0
        ? new ApiError('method_not_allowed', `method ${request.method} not allowed on this resource`)
        : new ApiError('not_found', unservedReason(request.path) ?? `no resource at ${request.path}`);
    }
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      return new ApiError('invalid_parameter', exception.message);
    }
    this.logger.error({ api_id: contextOf(request)?.apiId, err: exception }, 'unhandled error');
    return new ApiError('internal');
  }

  private logOutage(error: ApiError, reason: string, request: Request): void {
    if (!this.outages.pass(`${error.code} ${reason}`, { message: error.message, reason })) return;
    this.logger.warn({ api_id: contextOf(request)?.apiId, reason }, `request failed: ${error.message}`);
  }
}
