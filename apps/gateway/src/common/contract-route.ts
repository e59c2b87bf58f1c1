import { applyDecorators, createParamDecorator, type ExecutionContext, HttpCode, RequestMapping, RequestMethod, SetMetadata } from '@nestjs/common';
import { operations, type Operation, type OperationId, type OperationInput } from '@mpc/contracts';
import type { Request } from 'express';
import type { z } from 'zod';
import { expressPath } from './contract-paths.js';
import { ApiError } from './error-catalog.js';

const OPERATION = 'mpc:operation';

const METHODS = { get: RequestMethod.GET, post: RequestMethod.POST, delete: RequestMethod.DELETE } as const;

/** Routes a handler at a contract operation's method and path, answering its success status. */
export function ContractRoute(id: OperationId) {
  const operation: Operation = operations[id];
  return applyDecorators(
    SetMetadata(OPERATION, id),
    RequestMapping({ path: expressPath(operation), method: METHODS[operation.method] }),
    HttpCode(operation.success.status),
  );
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/**
 * The parameter whose value holds a NUL character, which no Plivo parameter takes and PostgreSQL
 * cannot store. Only top-level values (and repeated query keys) are read: the contract's shapes
 * are flat, and anything deeper is ignored or refused by them.
 */
function nulParameterOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const hasNul = (item: unknown) => typeof item === 'string' && item.includes('\u0000');
  return Object.entries(value).find(([, item]) => hasNul(item) || (Array.isArray(item) && item.some(hasNul)))?.[0];
}

function parsePart(schema: z.ZodType | undefined, value: unknown, part: string): unknown {
  if (!schema) return undefined;
  const nul = nulParameterOf(value);
  if (nul !== undefined) throw new ApiError('invalid_parameter', `invalid ${part}: ${nul}: may not contain a NUL character`);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ApiError('invalid_parameter', `invalid ${part}: ${describeIssues(result.error)}`);
}

/** A JSON body's parameters less those set to null: JSON clients send null for a parameter left unset. */
function withoutNulls(body: object): object {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
}

/** The request's path, query and body, parsed by the schemas of the handler's contract operation. */
export function parseRequest<K extends OperationId>(id: K, request: Request): OperationInput<K> {
  const operation: Operation = operations[id];
  const body = request.body === undefined || request.body === null ? {} : request.body;
  if (operation.body && (typeof body !== 'object' || Array.isArray(body))) {
    throw new ApiError('malformed_body', 'the request body must be a JSON object or form data');
  }
  return {
    params: parsePart(operation.params, request.params, 'path'),
    query: parsePart(operation.query, request.query, 'query'),
    body: parsePart(operation.body, operation.body && withoutNulls(body as object), 'parameter'),
  } as OperationInput<K>;
}

/** The contract operation a handler serves, or undefined for routes outside the contract (health, docs). */
export function operationOf(context: ExecutionContext): OperationId | undefined {
  return Reflect.getMetadata(OPERATION, context.getHandler()) as OperationId | undefined;
}

export const Input = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  parseRequest(operationOf(context)!, context.switchToHttp().getRequest<Request>()),
);
