import { validateV3Signature } from 'plivo';
import { describe, expect, it } from 'vitest';
import { SignatureVerificationError } from './errors.js';
import { assertV3, newNonce, signV3, verifyV3, type SignV3Input, type SignedParams } from './signature.js';

const authToken = 'MjM0ZDlhYjYtNDI2ZC00OGI3LTk2YjEtYTU1MDg4';
const nonce = '05429567804466091622';

const recordingCallback: SignedParams = {
  EventName: 'MPCRecordingCompleted',
  EventTimestamp: '2026-01-05 09:20:03+00:00',
  MPCName: 'sales standup',
  MPCUUID: 'e06ac332-45dc-11eb-94fe-06dd7f581a50',
  RecordingDuration: '61',
  RecordingURL: 'https://mpc.example.com/v1/Account/MA123/Recording/e06ac332.mp3',
  SequenceNumber: '3',
};

const cases: { name: string; input: Omit<SignV3Input, 'nonce' | 'authToken'> }[] = [
  { name: 'POST, no query string', input: { method: 'POST', url: 'https://receiver.example.com/callbacks/recording', params: recordingCallback } },
  { name: 'POST, query string and params', input: { method: 'POST', url: 'https://receiver.example.com/cb?tenant=7&a=b', params: recordingCallback } },
  { name: 'POST, query string, no params', input: { method: 'POST', url: 'https://receiver.example.com/cb?tenant=7', params: {} } },
  { name: 'POST, no query string, no params', input: { method: 'POST', url: 'https://receiver.example.com/cb', params: {} } },
  {
    name: 'POST, repeated keys in query and params',
    input: { method: 'POST', url: 'https://receiver.example.com/cb?b=2&a=9&b=1', params: { z: ['3', '1', '2'], A: 'x', a: ['b', 'a'] } },
  },
  { name: 'POST, fragment with retry rules', input: { method: 'POST', url: 'https://receiver.example.com/cb?x=1#rc=3&rp=5xx', params: recordingCallback } },
  { name: 'POST, explicit port', input: { method: 'POST', url: 'http://localhost:8080/cb', params: recordingCallback } },
  { name: 'POST, default port written out', input: { method: 'POST', url: 'https://receiver.example.com:443/cb', params: recordingCallback } },
  { name: 'POST, host and path as written', input: { method: 'POST', url: 'https://Receiver.Example.COM/a/../CB/', params: { a: '1' } } },
  { name: 'POST, user info', input: { method: 'POST', url: 'https://user:secret@receiver.example.com/cb?k=v', params: { a: '1' } } },
  { name: 'POST, no path', input: { method: 'POST', url: 'https://receiver.example.com', params: { a: '1' } } },
  {
    name: 'POST, encoded query, spaces and empty values',
    input: { method: 'POST', url: 'https://receiver.example.com/cb?name=a%20b&plus=c+d&empty=&bare&amp=%26', params: { note: 'a b&c=d', blank: '' } },
  },
  { name: 'POST, non-ASCII', input: { method: 'POST', url: 'https://receiver.example.com/café?q=%C3%A9&r=ü', params: { name: 'Zoë', city: 'Köln' } } },
  { name: 'GET, no query string, no params', input: { method: 'GET', url: 'https://receiver.example.com/cb', params: {} } },
  { name: 'GET, callback params only', input: { method: 'GET', url: 'https://receiver.example.com/cb', params: recordingCallback } },
  { name: 'GET, query string only', input: { method: 'GET', url: 'https://receiver.example.com/cb?b=2&a=1', params: {} } },
  {
    name: 'GET, repeated keys across query and params',
    input: { method: 'GET', url: 'https://receiver.example.com/cb?tenant=7&b=2&b=1', params: { b: ['0', '3'], tenant: '6', EventName: 'MPCRecordingPaused' } },
  },
  { name: 'GET, fragment and port', input: { method: 'GET', url: 'http://10.0.0.5:3000/hooks/mpc?x=1#rc=2', params: recordingCallback } },
  { name: 'GET, non-ASCII', input: { method: 'GET', url: 'https://receiver.example.com/ü?q=%C3%A9', params: { name: 'Zoë' } } },
];

/** plivo sorts the arrays it is given in place, so it gets its own copy. */
function plivoAccepts(input: Omit<SignV3Input, 'nonce' | 'authToken'>, signature: string, token = authToken, signedNonce = nonce): boolean {
  const params = structuredClone(input.params ?? {});
  return Boolean(validateV3Signature(input.method, input.url, signedNonce, token, signature, params));
}

describe('signV3 agrees with plivo-node', () => {
  it.each(cases)('$name', ({ input }) => {
    const signature = signV3({ ...input, nonce, authToken });
    expect(plivoAccepts(input, signature)).toBe(true);
    expect(verifyV3({ ...input, nonce, authToken, signature })).toBe(true);
  });

  it('plivo-node rejects a signature it did not make, so the agreement above means something', () => {
    const signature = signV3({ ...cases[0].input, nonce, authToken });
    expect(plivoAccepts(cases[0].input, signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')))).toBe(false);
  });

  it('does not reorder the arrays it is given', () => {
    const values = ['3', '1', '2'];
    signV3({ method: 'POST', url: 'https://receiver.example.com/cb', nonce, authToken, params: { z: values } });
    expect(values).toEqual(['3', '1', '2']);
  });
});

describe('verifyV3', () => {
  const signed = { method: 'POST', url: 'https://receiver.example.com/cb?tenant=7', nonce, authToken, params: recordingCallback } as const;
  const signature = signV3(signed);

  it('accepts the signature among several comma-separated ones', () => {
    expect(verifyV3({ ...signed, signature: `bm90IGl0,${signature}` })).toBe(true);
    expect(plivoAccepts(signed, `bm90IGl0,${signature}`)).toBe(true);
  });

  it('rejects a header in which no signature matches', () => {
    expect(verifyV3({ ...signed, signature: 'bm90IGl0,YWxzbyBub3Q=' })).toBe(false);
    expect(verifyV3({ ...signed, signature: '' })).toBe(false);
  });

  const { SequenceNumber: _, ...withoutSequenceNumber } = recordingCallback;
  const broken: [string, Partial<SignV3Input>][] = [
    ['wrong auth token', { authToken: `${authToken}x` }],
    ['wrong nonce', { nonce: '05429567804466091623' }],
    ['changed param', { params: { ...recordingCallback, RecordingDuration: '62' } }],
    ['added param', { params: { ...recordingCallback, Extra: '' } }],
    ['missing param', { params: withoutSequenceNumber }],
    ['changed path', { url: 'https://receiver.example.com/cb2?tenant=7' }],
    ['changed query', { url: 'https://receiver.example.com/cb?tenant=8' }],
    ['changed host', { url: 'https://receiver.example.org/cb?tenant=7' }],
    ['changed scheme', { url: 'http://receiver.example.com/cb?tenant=7' }],
    ['changed method', { method: 'GET' }],
  ];

  it.each(broken)('rejects a callback with a %s', (_, change) => {
    const received = { ...signed, ...change, signature };
    expect(verifyV3(received)).toBe(false);
    expect(plivoAccepts(received, signature, received.authToken, received.nonce)).toBe(false);
  });
});

describe('assertV3', () => {
  const signed = { method: 'GET', url: 'https://receiver.example.com/cb', nonce, authToken, params: { a: '1' } } as const;

  it('passes a valid signature', () => {
    expect(() => assertV3({ ...signed, signature: signV3(signed) })).not.toThrow();
  });

  it('throws SignatureVerificationError otherwise', () => {
    expect(() => assertV3({ ...signed, signature: signV3({ ...signed, nonce: '1' }) })).toThrow(SignatureVerificationError);
  });
});

describe('newNonce', () => {
  it('is 20 digits, fresh each time', () => {
    const nonces = new Set(Array.from({ length: 50 }, newNonce));
    expect(nonces.size).toBe(50);
    for (const value of nonces) expect(value).toMatch(/^\d{20}$/);
  });
});

it('refuses methods other than GET and POST, as plivo-node does', () => {
  const input = { method: 'PUT' as 'POST', url: 'https://receiver.example.com/cb', nonce, authToken };
  expect(() => signV3(input)).toThrow(TypeError);
  expect(() => validateV3Signature(input.method, input.url, nonce, authToken, 'x')).toThrow();
});
