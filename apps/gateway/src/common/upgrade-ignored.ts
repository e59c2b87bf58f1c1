import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError } from './error-catalog.js';
import { destroyOnError, refuseUnread, responseUnderWay } from './raw-socket.js';

/** How many header names and values Node keeps of a request when `server.maxHeadersCount` is unset (1,000 headers). */
const NODE_KEPT_HEADER_ENTRIES = 2000;

/** Headers that ask for an upgrade; a request served without it leaves them out. */
const UPGRADE_HEADERS = new Set(['upgrade', 'http2-settings']);

/**
 * Serves a request that asks to upgrade, though no upgrade is offered at its path, as a plain
 * request. The server listens for upgrades (media streams), so Node hands it every request with an
 * `Upgrade` header, such as the `Upgrade: h2c` of `curl --http2` on a health probe; RFC 9110 lets a
 * server ignore the upgrade. The request is written again without it and given back to the server
 * as a new connection, which reads it, body and all, as any other.
 */
export function serveIgnoringUpgrade(server: Server, request: IncomingMessage, socket: Duplex, head: Buffer): void {
  // Node took its own error listener off the socket when it handed the upgrade over: until the
  // server has the socket again, a client's reset would otherwise be an uncaught error.
  socket.on('error', destroyOnError);
  // Node keeps only the first maxHeadersCount headers, though it reads the framing from all: written
  // again from those, the request could lose its Content-Length and its body pass for another request.
  const keptEntries = typeof server.maxHeadersCount === 'number' && server.maxHeadersCount > 0 ? 2 * server.maxHeadersCount : NODE_KEPT_HEADER_ENTRIES;
  if (request.rawHeaders.length >= keptEntries) return void refuseUnread(socket, new ApiError('headers_too_large', 'too many request headers'));
  const serve = () => {
    const lines = [`${request.method} ${request.url} HTTP/${request.httpVersion}`];
    const raw = request.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      if (UPGRADE_HEADERS.has(name.toLowerCase())) continue;
      if (name.toLowerCase() === 'connection') {
        // `Connection: Upgrade, HTTP2-Settings` loses those options and keeps any other (`close`).
        const kept = value.split(',').map((option) => option.trim()).filter((option) => option !== '' && !UPGRADE_HEADERS.has(option.toLowerCase()));
        if (kept.length > 0) lines.push(`${name}: ${kept.join(', ')}`);
        continue;
      }
      lines.push(`${name}: ${value}`);
    }
    socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
    socket.off('error', destroyOnError);
    server.emit('connection', socket);
  };
  // Responses to requests pipelined before this one are still being written: this one waits its turn.
  const whenFree = () => {
    const earlier = responseUnderWay(socket);
    if (earlier) earlier.once('finish', () => setImmediate(whenFree));
    else if (socket.writable) serve();
  };
  whenFree();
}
