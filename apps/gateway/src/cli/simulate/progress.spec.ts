import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Progress } from './progress.js';

describe('Progress', () => {
  it('writes one line per phase when stderr is not a terminal', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const progress = new Progress(out as unknown as NodeJS.WriteStream, false);
    progress.step('Creating MPC');
    progress.startCall(6);
    progress.phase('recording', 'recording started');
    progress.phase('paused', 'recording paused');
    progress.endCall();
    expect(text).not.toContain('\r');
    expect(text.trim().split('\n')).toEqual([
      'Creating MPC',
      expect.stringMatching(/^\[ +0\.0 s\] streaming 6 s of audio$/),
      expect.stringMatching(/^\[ +0\.0 s\] recording started$/),
      expect.stringMatching(/^\[ +0\.0 s\] recording paused$/),
    ]);
  });

  it('redraws a single line on a terminal', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const progress = new Progress(out as unknown as NodeJS.WriteStream, true);
    progress.startCall(10, performance.now() - 5000);
    progress.phase('paused', 'recording paused');
    progress.endCall();
    expect(text).toContain('\r\x1b[K[');
    expect(text).toMatch(/5\.0\/10\.0 s {2}paused \(not recorded\)/);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
  });
});
