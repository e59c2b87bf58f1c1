import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { INestApplication } from '@nestjs/common';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

const require = createRequire(import.meta.url);

/** The document written from the contracts; the gateway serves it as it is, never a scan of its own routes. */
export function contractDocument(): OpenAPIObject {
  return JSON.parse(readFileSync(require.resolve('@mpc/contracts/openapi.json'), 'utf8')) as OpenAPIObject;
}

/**
 * Runs in the browser, serialized into Swagger UI's page (so it may use nothing from here): a path
 * may only name the caller's own account, so "Try it out" puts the authorized user name there rather
 * than the `auth_id` field's example, which would answer 401.
 */
function pathNamesAuthorizedAccount(request: { url: string; headers: Record<string, string> }) {
  const authorization = request.headers.Authorization ?? request.headers.authorization ?? '';
  if (!authorization.startsWith('Basic ')) return request;
  const user = atob(authorization.slice('Basic '.length)).split(':')[0] ?? '';
  if (user) request.url = request.url.replace(/\/v1\/Account\/[^/]+\//, `/v1/Account/${encodeURIComponent(user)}/`);
  return request;
}

/** Swagger UI at /docs and the raw document at /openapi.json. */
export function mountDocs(app: INestApplication): void {
  const document = contractDocument();
  SwaggerModule.setup('docs', app, document, {
    raw: false,
    customSiteTitle: 'MPC recording gateway',
    swaggerOptions: { persistAuthorization: true, tryItOutEnabled: false, displayOperationId: true, requestInterceptor: pathNamesAuthorizedAccount },
  });
  const http = app.getHttpAdapter();
  http.get('/openapi.json', (_request: unknown, response: { json(body: unknown): void }) => response.json(document));
}
