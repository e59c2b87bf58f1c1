import { describe, expect, it } from 'vitest';
import { newAuthId, newAuthToken, parseBasicAuth, secretsEqual } from './credentials.js';

const basic = (value: string) => `Basic ${Buffer.from(value).toString('base64')}`;

describe('credentials', () => {
  it('reads Basic auth', () => {
    expect(parseBasicAuth(basic('MA123:tok:en'))).toEqual({ authId: 'MA123', authToken: 'tok:en' });
    expect(parseBasicAuth(`basic ${Buffer.from('a:b').toString('base64')}`)).toEqual({ authId: 'a', authToken: 'b' });
  });

  it.each([undefined, '', 'Bearer abc', 'Basic !!!', basic('no-colon'), basic(':token')])('refuses %j', (header) => {
    expect(parseBasicAuth(header)).toBeUndefined();
  });

  it('compares secrets exactly', () => {
    expect(secretsEqual('same-token', 'same-token')).toBe(true);
    expect(secretsEqual('same-token', 'same-tokeN')).toBe(false);
    expect(secretsEqual('short', 'longer-token')).toBe(false);
    expect(secretsEqual('', 'x')).toBe(false);
  });

  it('makes Plivo-shaped auth ids and long random tokens', () => {
    expect(newAuthId()).toMatch(/^MA[A-Z0-9]{18}$/);
    expect(newAuthToken()).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(newAuthToken()).not.toBe(newAuthToken());
  });
});
