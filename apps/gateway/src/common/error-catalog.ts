import { isDatabaseFull, isDatabaseUnreachable } from '../persistence/database-unreachable.js';
import { reasonOf } from './reason-of.js';

/**
 * Every error the gateway answers, by stable code. The HTTP status and default text live here
 * and nowhere else; the README's error table is checked against this catalog by a test.
 */
export const ERROR_CATALOG = {
  malformed_request: { status: 400, message: 'the request is not valid HTTP/1.1' },
  invalid_parameter: { status: 400, message: 'invalid parameter' },
  malformed_body: { status: 400, message: 'the request body is not valid JSON or form data' },
  invalid_state: { status: 400, message: 'the request does not fit the current state' },
  authentication_failed: { status: 401, message: 'authentication failed' },
  not_found: { status: 404, message: 'not found' },
  method_not_allowed: { status: 405, message: 'method not allowed' },
  request_timeout: { status: 408, message: 'the request did not arrive in time' },
  body_too_large: { status: 413, message: 'request body too large' },
  range_not_satisfiable: { status: 416, message: 'requested range not satisfiable' },
  rate_limited: { status: 429, message: 'too many requests' },
  headers_too_large: { status: 431, message: 'request headers too large' },
  internal: { status: 500, message: 'internal error' },
  database_unavailable: { status: 503, message: 'the database cannot be reached; try again shortly' },
  database_full: { status: 503, message: 'the database has no room left on its disk to write this; try again once it has' },
  storage_unavailable: { status: 503, message: 'the recording storage cannot be reached now; try again shortly' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** When to come again after a 503: as long as the database pool waits for a connection, or S3 for one. */
export const RETRY_AFTER_SECONDS = 5;
/** When to come again after the database's disk was full: room is made by people, not in seconds. */
const DISK_FULL_RETRY_AFTER_SECONDS = 60;

/** The one error type domain code throws; the exception filter turns it into Plivo's body. */
export class ApiError extends Error {
  readonly status: number;
  /** Sent as `Retry-After`: when to come again. Every 503 has one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CATALOG[code].message,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.status = ERROR_CATALOG[code].status;
    this.retryAfterSeconds = options?.retryAfterSeconds ?? (this.status === 503 ? RETRY_AFTER_SECONDS : undefined);
  }
}

/**
 * The error as the API answers it, where it is one the catalog names: an ApiError, or a database
 * that cannot be reached or has no room to write (failures of the service, not of the request).
 * Anything else is unforeseen.
 */
export function knownApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (isDatabaseUnreachable(error)) return new ApiError('database_unavailable');
  if (isDatabaseFull(error)) return new ApiError('database_full', undefined, { retryAfterSeconds: DISK_FULL_RETRY_AFTER_SECONDS });
  return undefined;
}

/**
 * How a failure goes into a log line: a service out of reach (a 503: the database, storage) by what
 * it said alone, as the API's own 503s are logged (its stack, here or across a media shard's
 * channel, tells nothing more); anything else whole.
 */
export function loggedFailure(error: unknown): { reason: string } | { err: unknown } {
  return knownApiError(error)?.status === 503 ? { reason: reasonOf(error) } : { err: error };
}
