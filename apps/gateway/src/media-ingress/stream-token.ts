import { createHmac, timingSafeEqual } from 'node:crypto';

export interface StreamGrant {
  mpcUuid: string;
  callUuid: string;
}

const mac = (payload: string, key: string) => createHmac('sha256', key).update(`mpc-stream:${payload}`).digest('base64url');

/**
 * A token that lets one call's media stream into one MPC, for streams that cannot send
 * credentials (Twilio strips query strings, so it travels in the URL path). Signed with the
 * account's auth token: changing the token revokes every stream token of the account.
 */
export function signStreamToken(grant: StreamGrant, authToken: string): string {
  const payload = Buffer.from(JSON.stringify({ m: grant.mpcUuid, c: grant.callUuid })).toString('base64url');
  return `${payload}.${mac(payload, authToken)}`;
}

export function verifyStreamToken(token: string, authToken: string): StreamGrant | undefined {
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return undefined;
  const expected = Buffer.from(mac(payload, authToken));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const { m, c } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { m?: unknown; c?: unknown };
    return typeof m === 'string' && typeof c === 'string' ? { mpcUuid: m, callUuid: c } : undefined;
  } catch {
    return undefined;
  }
}
