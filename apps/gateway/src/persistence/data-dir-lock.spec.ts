import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { holdDataDir, InUseByAnotherGateway } from './data-dir-lock.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'mpc-hold-'));
  dirs.push(dir);
  return dir;
};

describe('holding DATA_DIR', () => {
  it('refuses a second hold, saying who has it, until the first lets go', async () => {
    const dir = freshDir();
    const first = await holdDataDir(dir);
    first.describe('pid 1234, serving http://127.0.0.1:8080');
    const second = holdDataDir(dir);
    await expect(second).rejects.toThrow(InUseByAnotherGateway);
    await expect(second).rejects.toThrow(`DATA_DIR ${dir} is in use by another gateway (pid 1234, serving http://127.0.0.1:8080)`);
    expect(first.tookOver).toBe(false);
    await first.release();
    // Let go of: the next one finds nothing left behind.
    const third = await holdDataDir(dir);
    expect(third.tookOver).toBe(false);
    await third.release();
  });

  it('takes over the hold of a process that was killed', async () => {
    const dir = freshDir();
    // A process with the directory's socket listening, as a gateway holds it, that dies without letting go.
    const socket = join(dir, 'gateway.lock');
    const script = `require('node:net').createServer().listen(${JSON.stringify(socket)}, () => process.stdout.write('held\\n'))`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await expect(holdDataDir(dir)).rejects.toThrow(InUseByAnotherGateway);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(existsSync(socket)).toBe(true);
    const hold = await holdDataDir(dir);
    expect(hold.tookOver).toBe(true);
    await hold.release();
  });

  it('holds a directory whose path is too long for a socket in it, by a socket named after it elsewhere', async () => {
    const dir = join(freshDir(), 'a-directory-name-long-enough'.repeat(4));
    mkdirSync(dir);
    const first = await holdDataDir(dir);
    expect(existsSync(join(dir, 'gateway.lock'))).toBe(false);
    await expect(holdDataDir(dir)).rejects.toThrow(InUseByAnotherGateway);
    await first.release();
  });

  it('is one hold however the directory is spelled, by a short path or a long one', async () => {
    const dir = freshDir();
    const alias = join(freshDir(), 'a-link-with-a-name-long-enough-for-its-socket-path-to-go-elsewhere'.repeat(2));
    symlinkSync(dir, alias);
    const first = await holdDataDir(dir);
    await expect(holdDataDir(alias)).rejects.toThrow(InUseByAnotherGateway);
    await first.release();
  });
});
