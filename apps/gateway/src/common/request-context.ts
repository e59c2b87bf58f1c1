import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { AccountRow } from '../persistence/schema.js';

/** What the gateway attaches to each request. */
export interface RequestContext {
  apiId: string;
  account?: AccountRow;
  /** The code of the error answered (see error-catalog), for the request's log line. */
  error?: string;
}

export type GatewayRequest = Request & { context: RequestContext };

export function contextOf(request: Request): RequestContext {
  return (request as GatewayRequest).context;
}

/** Gives every request its api_id, which the response body and the log both carry. */
export function assignApiId(request: Request, _response: Response, next: NextFunction): void {
  (request as GatewayRequest).context = { apiId: randomUUID() };
  next();
}
