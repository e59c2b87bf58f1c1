import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

export interface BasicCredentials {
  authId: string;
  authToken: string;
}

/** Reads `Authorization: Basic base64(auth_id:auth_token)`; undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { authId: decoded.slice(0, colon), authToken: decoded.slice(colon + 1) };
}

/** Compares secrets in time that does not depend on where they differ. */
export function secretsEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // Compare against itself when lengths differ, so the time spent does not reveal the length either.
  return timingSafeEqual(a.length === b.length ? a : b, b) && a.length === b.length;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** An auth_id shaped like Plivo's: `MA` and 18 upper-case letters or digits. */
export function newAuthId(): string {
  return `MA${Array.from({ length: 18 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join('')}`;
}

/** 40 characters of base64url from 30 random bytes. */
export function newAuthToken(): string {
  return randomBytes(30).toString('base64url');
}
