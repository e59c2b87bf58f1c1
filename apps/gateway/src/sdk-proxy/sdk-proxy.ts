import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { Logger } from '../common/logger.js';
import { PLIVO_API_HOST, type ProxyCertificate } from './proxy-certificate.js';

/**
 * The official SDKs' `proxy` option: they open `CONNECT api.plivo.com:443` to the proxy and speak
 * TLS to api.plivo.com through it. The gateway answers such a tunnel itself, with its certificate
 * for api.plivo.com, and serves the API inside it as on its own port. Any other host is refused:
 * the gateway is no proxy to anywhere else.
 */
export function attachSdkProxy(server: Server, certificate: ProxyCertificate, logger: Logger): void {
  const secureContext = createSecureContext({ cert: certificate.cert, key: certificate.key });
  server.on('connect', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error) => logger.debug({ err: error }, 'SDK proxy tunnel error'));
    if (!isPlivoApi(request.url)) {
      logger.warn({ target: request.url }, 'SDK proxy tunnel refused: only api.plivo.com:443 is served');
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nonly ${PLIVO_API_HOST}:443 is served here\n`);
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    const tunnel = new TLSSocket(socket, { isServer: true, secureContext });
    tunnel.on('error', (error) => logger.debug({ err: error }, 'SDK proxy TLS error'));
    server.emit('connection', tunnel);
  });
}

/**
 * With tunnels off (SDK_PROXY=false), a client that asks for one is told so; with no listener,
 * Node drops the connection, and the official SDK then neither answers nor fails.
 */
export function refuseTunnels(server: Server): void {
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nCONNECT tunnels are off on this gateway (SDK_PROXY=false)\n');
  });
}

/** `api.plivo.com:443`, the only CONNECT target served. */
export function isPlivoApi(target: string | undefined): boolean {
  return target?.toLowerCase() === `${PLIVO_API_HOST}:443`;
}
