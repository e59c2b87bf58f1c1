import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { INestApplication } from '@nestjs/common';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

const require = createRequire(import.meta.url);

/** The document written from the contracts; the gateway serves it as it is, never a scan of its own routes. */
export function contractDocument(): OpenAPIObject {
  return JSON.parse(readFileSync(require.resolve('@mpc/contracts/openapi.json'), 'utf8')) as OpenAPIObject;
}

/** Swagger UI at /docs and the raw document at /openapi.json. */
export function mountDocs(app: INestApplication): void {
  const document = contractDocument();
  SwaggerModule.setup('docs', app, document, {
    raw: false,
    customSiteTitle: 'MPC recording gateway',
    swaggerOptions: { persistAuthorization: true, tryItOutEnabled: false, displayOperationId: true },
  });
  const http = app.getHttpAdapter();
  http.get('/openapi.json', (_request: unknown, response: { json(body: unknown): void }) => response.json(document));
}
