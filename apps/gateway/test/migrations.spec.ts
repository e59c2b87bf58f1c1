import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
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

it('gives the callback events written before receivers were kept the receiver of their URL', async () => {
  const folder = join(packageDir, 'drizzle');
  const before = mkdtempSync(join(tmpdir(), 'mpc-migrations-'));
  const pglite = new PGlite();
  try {
    // The migrations as they were before 0005.
    cpSync(folder, before, { recursive: true });
    const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8'));
    journal.entries = journal.entries.filter((entry: { idx: number }) => entry.idx < 5);
    writeFileSync(join(before, 'meta', '_journal.json'), JSON.stringify(journal));
    await migrate(drizzle(pglite), { migrationsFolder: before });
    const urls = ['HTTPS://User:pw@Hooks.Example.COM:443/cb#rt=10', 'http://hooks.example.com:80/a', 'http://hooks.example.com:8080?q', 'http:hooks.example.com/cb'];
    for (const [id, url] of urls.entries()) {
      await pglite.query(
        `insert into callback_events (recording_id, auth_id, sequence_number, event_name, url, method, params, next_attempt_at, created_at)
         values (gen_random_uuid(), 'MA0000', $1, 'MPCRecordingInitiated', $2, 'POST', '{}', now(), now())`,
        [id + 1, url],
      );
    }
    await migrate(drizzle(pglite), { migrationsFolder: folder });
    const { rows } = await pglite.query<{ receiver: string }>('select receiver from callback_events order by sequence_number');
    expect(rows.map((row) => row.receiver)).toEqual(['https://hooks.example.com', 'http://hooks.example.com', 'http://hooks.example.com:8080', 'http:hooks.example.com/cb']);
  } finally {
    await pglite.close();
    rmSync(before, { recursive: true, force: true });
  }
});
