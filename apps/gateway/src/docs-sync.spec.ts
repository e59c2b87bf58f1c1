import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from './common/error-catalog.js';
import { ConfigSchema } from './config/config.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The first cell of each row of the table under `heading`. */
function firstColumn(heading: string): string[] {
  const section = readme.split(`## ${heading}`)[1]!.split('\n## ')[0]!;
  return section
    .split('\n')
    .filter((line) => /^\| `/.test(line))
    .map((line) => /^\| `([^`]+)`/.exec(line)![1]!);
}

describe('README', () => {
  it('lists every error of the catalog with its status', () => {
    expect(firstColumn('Errors').sort()).toEqual(Object.keys(ERROR_CATALOG).sort());
    for (const [code, { status }] of Object.entries(ERROR_CATALOG)) {
      expect(readme).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    }
  });

  it('lists every setting', () => {
    expect(firstColumn('Configuration').sort()).toEqual(Object.keys(ConfigSchema.in.shape).sort());
  });
});
