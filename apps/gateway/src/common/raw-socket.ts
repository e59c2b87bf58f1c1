import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApiError } from './error-catalog.js';

/**
 * Ends a socket quietly on its errors (a client's reset). For a socket nothing else listens on, as
 * one Node has handed over with an upgrade request: its error would otherwise be uncaught.
 */
export function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** The response Node's server is writing on a socket, if any (its own internal field, as its own error handling reads it). */
export function responseUnderWay(socket: Duplex): ServerResponse | undefined {
  return (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

/**
 * Answers, in Plivo's body, a request no handler will see (one Node's parser refused, or an upgrade
 * refused), and closes the connection once the answer is out. Answers the api_id it gave.
 */
export function refuseUnread(socket: Duplex, refused: ApiError): string {
  socket.on('error', destroyOnError);
  const apiId = randomUUID();
  const body = JSON.stringify({ api_id: apiId, error: refused.message });
  const head = [`HTTP/1.1 ${refused.status} ${STATUS_CODES[refused.status]}`, 'Content-Type: application/json; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
  if (refused.retryAfterSeconds !== undefined) head.push(`Retry-After: ${refused.retryAfterSeconds}`);
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
  return apiId;
}
