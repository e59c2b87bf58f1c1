import { describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from './options.js';

const env = { MPC_AUTH_ID: 'MAID', MPC_AUTH_TOKEN: 'token-0123456789abcdef' };
const run = (args: string[], environment: NodeJS.ProcessEnv = env) => {
  const result = parseOptions(args, environment, '/home/user');
  if (result.kind !== 'run') throw new Error('expected options');
  return result.options;
};

describe('simulate options', () => {
  it('has defaults for everything but the credentials, which come from the environment', () => {
    expect(run([])).toEqual({
      url: 'http://127.0.0.1:8080',
      authId: 'MAID',
      authToken: 'token-0123456789abcdef',
      participants: 3,
      seconds: 10,
      format: 'mp3',
      wav: [],
      speech: false,
      out: '/home/user/simulated-recordings',
      pauseAt: 4,
      resumeAt: 6,
    });
  });

  it('reads every option, skipping the -- that pnpm passes on, and resolves paths from the user\'s directory', () => {
    const options = run(
      ['--', '--url', 'http://gw:9000/', '--auth-id', 'MA2', '--auth-token', 't2', '--participants', '5', '--seconds', '6', '--format', 'wav',
        '--wav', 'a.wav', '--wav', '/x/b.wav', '--out', 'rec', '--pause-at', '1.5', '--resume-at', '2'],
    );
    expect(options).toMatchObject({ url: 'http://gw:9000', authId: 'MA2', authToken: 't2', participants: 5, seconds: 6, format: 'wav' });
    expect(options).toMatchObject({ wav: ['/home/user/a.wav', '/x/b.wav'], out: '/home/user/rec', pauseAt: 1.5, resumeAt: 2 });
  });

  it('pauses at 40% and resumes at 60% of the call by default', () => {
    expect(run(['--seconds', '6'])).toMatchObject({ pauseAt: 2.4, resumeAt: 3.6 });
  });

  it('answers help', () => {
    expect(parseOptions(['--help'], {}, '/')).toEqual({ kind: 'help' });
    expect(parseOptions(['-h'], {}, '/')).toEqual({ kind: 'help' });
  });

  it.each([
    [[], {}, /missing credentials: --auth-id \(or MPC_AUTH_ID\) and --auth-token/],
    [['--participants', '0'], env, /--participants must be between 1 and 10/],
    [['--participants', '2.5'], env, /--participants must be a whole number/],
    [['--seconds', 'ten'], env, /--seconds must be a number/],
    [['--format', 'ogg'], env, /--format must be mp3 or wav/],
    [['--seconds', '5', '--pause-at', '4', '--resume-at', '3'], env, /need 0 < --pause-at < --resume-at < --seconds/],
    [['--seconds', '5', '--resume-at', '5'], env, /need 0 < --pause-at < --resume-at < --seconds/],
    [['--speech', '--wav', 'a.wav'], env, /cannot be combined/],
    [['--url', 'ftp://x'], env, /must be http or https/],
    [['--bogus'], env, /Unknown option '--bogus'/],
  ] as const)('refuses %j', (args, environment, message) => {
    expect(() => parseOptions(args, environment, '/')).toThrow(UsageError);
    expect(() => parseOptions(args, environment, '/')).toThrow(message);
  });
});
