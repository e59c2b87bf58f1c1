import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const watchdog = fileURLToPath(new URL('../../dist/common/stall-watchdog.js', import.meta.url));

/** Runs `body` in a process watched with a 1.5 s limit; answers how it ended and what it printed. */
function watched(body: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string; ms: number }> {
  const script = `import { watchEventLoop } from ${JSON.stringify(watchdog)};\nwatchEventLoop(1500);\n${body}`;
  const started = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, output, ms: performance.now() - started })));
}

describe('event loop watchdog', () => {
  it('ends a process whose event loop is stuck, saying why', async () => {
    const { signal, output, ms } = await watched('const until = Date.now() + 30_000;\nwhile (Date.now() < until);');
    expect(signal).toBe('SIGKILL');
    expect(ms).toBeLessThan(10_000);
    const line = JSON.parse(output.trim().split('\n').at(-1)!);
    expect(line).toMatchObject({ level: 60, service: 'mpc-gateway' });
    expect(line.msg).toMatch(/made no progress/);
  });

  it('leaves a busy process whose event loop keeps turning alone', async () => {
    const body = 'let n = 0;\nconst work = setInterval(() => { const until = Date.now() + 200; while (Date.now() < until); if (++n === 15) { clearInterval(work); process.exit(0); } }, 10);';
    const { code, signal, output } = await watched(body);
    expect({ code, signal, output }).toEqual({ code: 0, signal: null, output: '' });
  });
});
