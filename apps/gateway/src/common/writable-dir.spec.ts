import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureWritableDir } from './writable-dir.js';

const root = mkdtempSync(join(tmpdir(), 'mpc-writable-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ensureWritableDir', () => {
  it('makes the directory and leaves nothing of its check behind', () => {
    const dir = join(root, 'a', 'b');
    ensureWritableDir(dir, 'DATA_DIR');
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('says which directory cannot be written, and why', () => {
    writeFileSync(join(root, 'file'), '');
    expect(() => ensureWritableDir(join(root, 'file', 'data'), 'DATA_DIR')).toThrow(`DATA_DIR ${join(root, 'file', 'data')} cannot be written (ENOTDIR)`);
  });
});
