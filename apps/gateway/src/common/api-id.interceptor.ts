import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { map, type Observable } from 'rxjs';
import { operationOf } from './contract-route.js';
import { contextOf } from './request-context.js';

/** Puts the request's api_id first in every JSON body a handler answers, as Plivo's bodies have it. */
export class ApiIdInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (operationOf(context) === undefined) return next.handle();
    const { apiId } = contextOf(context.switchToHttp().getRequest<Request>());
    return next
      .handle()
      .pipe(map((body: unknown) => (body !== null && typeof body === 'object' && !Buffer.isBuffer(body) ? { api_id: apiId, ...body } : body)));
  }
}
