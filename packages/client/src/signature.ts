import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { parse as parseQueryString } from 'node:querystring';
import { SignatureVerificationError } from './errors.js';

/** The callback's parameters: the form body of a POST, the extra query parameters of a GET. */
export type SignedParams = Readonly<Record<string, string | readonly string[]>>;

export interface SignV3Input {
  method: 'GET' | 'POST';
  /** The callback URL exactly as it was called, query string included. */
  url: string;
  /** The X-Plivo-Signature-V3-Nonce header. */
  nonce: string;
  authToken: string;
  params?: SignedParams;
}

export interface VerifyV3Input extends SignV3Input {
  /** The X-Plivo-Signature-V3 header: one signature, or several separated by commas. */
  signature: string;
}

/** The X-Plivo-Signature-V3 value for a callback, computed as plivo-node's validateV3Signature does. */
export function signV3({ method, url, nonce, authToken, params = {} }: SignV3Input): string {
  const signed = `${stringToSign(method, asUtf8ByteString(url), params)}.${asUtf8ByteString(nonce)}`;
  return createHmac('sha256', asUtf8ByteString(authToken)).update(signed).digest('base64');
}

/** Whether any of the comma-separated signatures matches. */
export function verifyV3({ signature, ...input }: VerifyV3Input): boolean {
  const expected = Buffer.from(signV3(input));
  return signature.split(',').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** Like verifyV3, but throws SignatureVerificationError when nothing matches. */
export function assertV3(input: VerifyV3Input): void {
  if (!verifyV3(input)) throw new SignatureVerificationError();
}

/** A fresh X-Plivo-Signature-V3-Nonce: 20 random digits. */
export function newNonce(): string {
  return Array.from({ length: 20 }, () => randomInt(10)).join('');
}

function stringToSign(method: string, url: string, params: SignedParams): string {
  const { base, query } = splitUrl(url);
  if (method === 'GET') {
    const sorted = sortedQuery(mergeValues(query, params));
    return sorted ? `${base}?${sorted}` : base;
  }
  if (method === 'POST') {
    const sorted = sortedQuery(query);
    const hasParams = Object.keys(params).length > 0;
    let result = base;
    if (sorted || hasParams) result += `?${sorted}`;
    if (sorted && hasParams) result += '.';
    return result + concatenatedParams(params);
  }
  throw new TypeError(`Signature V3 covers GET and POST callbacks, not ${method}`);
}

/**
 * Splits the URL as written, without normalising it as WHATWG URL would (case, default ports,
 * percent-encoding), since the signer hashed the text it was given. User info and fragment are dropped.
 */
function splitUrl(url: string): { base: string; query: Record<string, string[]> } {
  const [, scheme, host, port, path, query = ''] = /^(?:([^:/?#]+):)?(?:\/\/)?(?:[^/?#@]*@)?([^:/?#]*)(?::(\d*))?([^?#]*)(?:\?([^#]*))?/.exec(url)!;
  const base = `${scheme || 'http'}://${host}${port ? `:${port}` : ''}${path}`;
  return { base, query: mergeValues(parseQueryString(query), {}) };
}

function mergeValues(
  first: Readonly<Record<string, string | readonly string[] | undefined>>,
  second: SignedParams,
): Record<string, string[]> {
  const merged: Record<string, string[]> = Object.create(null);
  for (const source of [first, second]) {
    for (const [key, value] of Object.entries(source)) {
      merged[key] = (merged[key] ?? []).concat(value ?? []);
    }
  }
  return merged;
}

function sortedQuery(values: Record<string, string[]>): string {
  return Object.keys(values)
    .sort()
    .flatMap((key) => [...values[key]].sort().map((value) => `${key}=${value}`))
    .join('&');
}

function concatenatedParams(params: SignedParams): string {
  return Object.keys(params)
    .sort()
    .flatMap((key) => [params[key]].flat().sort().map((value) => key + value))
    .join('');
}

/**
 * plivo-node runs the URL, nonce and token through utf8.encode (one character per UTF-8 byte)
 * before hashing, so non-ASCII characters end up encoded twice; doing the same keeps
 * signatures interchangeable with it. ASCII text is unchanged.
 */
function asUtf8ByteString(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}
