import http from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';

/**
 * Express gives every request and response its own prototypes as it takes them
 * (`Object.setPrototypeOf` in `app.handle`). V8 then gives each such object a hidden class of its
 * own once one of its fields is written, and every property added after it another, all of them
 * in the old generation: ~13 KB of old-space garbage per request, which made every scavenge last
 * ~4 ms and brought a mark-compact every few seconds under load.
 *
 * This server makes its requests and responses as instances of classes whose prototypes Express
 * then uses as its own: Express sets each object's prototype to the one it already has, which
 * changes nothing, and the objects share their hidden classes.
 */
export class ExpressServerAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    if (options.httpsOptions || options.return503OnClosing || options.forceCloseConnections) {
      super.initHttpServer(options);
      return;
    }
    const app = this.getInstance<Express>();
    class Request extends http.IncomingMessage {}
    class Response extends http.ServerResponse {}
    // Express's methods (and `app`) stay one step up each chain.
    Object.setPrototypeOf(Request.prototype, app.request);
    Object.setPrototypeOf(Response.prototype, app.response);
    app.request = Request.prototype as Express['request'];
    app.response = Response.prototype as Express['response'];
    this.httpServer = http.createServer({ IncomingMessage: Request, ServerResponse: Response }, app);
  }
}
