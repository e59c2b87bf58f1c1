import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

it('committed migrations match the schema (run `pnpm generate` after changing it)', () => {
  // drizzle-kit wants the output folder relative to the package.
  const scratch = mkdtempSync(join(packageDir, '.migrations-check-'));
  try {
    const out = join(scratch, 'drizzle');
    cpSync(join(packageDir, 'drizzle'), out, { recursive: true });
    execFileSync(
      join(packageDir, 'node_modules', '.bin', 'drizzle-kit'),
      ['generate', '--dialect=postgresql', '--schema=src/persistence/schema.ts', `--out=${relative(packageDir, out)}`],
      { cwd: packageDir, stdio: 'pipe' },
    );
    expect(readdirSync(out).sort()).toEqual(readdirSync(join(packageDir, 'drizzle')).sort());
    expect(readdirSync(join(out, 'meta')).sort()).toEqual(readdirSync(join(packageDir, 'drizzle', 'meta')).sort());
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
