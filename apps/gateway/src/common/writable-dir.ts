import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Makes `dir` if need be and checks that files can be written in it, so a read-only or foreign
 * directory stops the start with a message that says so, not a recording that fails later.
 */
export function ensureWritableDir(dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.write-check-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new Error(`${what} ${dir} cannot be written (${code ?? message}): is its file system read-only, or owned by another user?`, { cause: error });
  }
}
