import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApiDocument } from '../openapi/document';

const target = join(__dirname, '..', '..', 'openapi.json');
writeFileSync(target, renderOpenApiDocument());
console.log(`wrote ${target}`);
