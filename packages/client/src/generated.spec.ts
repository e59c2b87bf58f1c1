import { readFileSync } from 'node:fs';
import openapiTS, { COMMENT_HEADER, astToString } from 'openapi-typescript';
import { expect, it } from 'vitest';

it('src/generated/openapi.ts matches the contracts OpenAPI document', async () => {
  const ast = await openapiTS(new URL('../../contracts/openapi.json', import.meta.url));
  const committed = readFileSync(new URL('./generated/openapi.ts', import.meta.url), 'utf8');

  expect(committed, 'stale: run pnpm --filter @mpc/client generate').toBe(COMMENT_HEADER + astToString(ast));
});
