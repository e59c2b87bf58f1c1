import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { operationOf } from '../common/contract-route.js';
import { ApiError } from '../common/error-catalog.js';
import { contextOf } from '../common/request-context.js';
import type { AccountsService } from './accounts.service.js';
import { parseBasicAuth } from './credentials.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * Every contract route needs HTTP Basic credentials whose auth_id is the one in the path, within
 * the account's rate limit. Recording files are public unless configured otherwise, as on Plivo.
 */
export class AuthGuard implements CanActivate {
  constructor(
    private readonly accounts: AccountsService,
    private readonly rateLimiter: RateLimiter,
    private readonly recordingMediaAuth: boolean,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const operation = operationOf(context);
    if (operation === undefined) return true;
    if (operation === 'getRecordingFile' && !this.recordingMediaAuth) return true;

    const request = context.switchToHttp().getRequest<Request>();
    // A request with a body was authenticated before its body was read (credentialsBeforeBodies).
    const credentials = parseBasicAuth(request.headers.authorization);
    const account = contextOf(request).account ?? (credentials && (await this.accounts.authenticate(credentials)));
    if (!account || request.params.auth_id !== account.authId) {
      // A browser or a player asks for credentials only when challenged; API clients send them anyway.
      if (operation === 'getRecordingFile') context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Basic realm="recordings", charset="UTF-8"');
      throw new ApiError('authentication_failed');
    }
    const waitMs = this.rateLimiter.take(account.authId);
    if (waitMs > 0) {
      throw new ApiError('rate_limited', 'too many requests: the account is over its rate limit, retry shortly', { retryAfterSeconds: Math.ceil(waitMs / 1000) });
    }
    contextOf(request).account = account;
    return true;
  }
}
