/**
 * The receiver a callback URL goes to, which deliveries in flight are counted by: its origin
 * (scheme, host and port) as the WHATWG parser reads it, which is also how it is sent. So every
 * spelling of one host is one receiver: case, a default port written out, user info, `http:host`
 * without slashes. A URL the parser refuses (the API never takes one) is its own receiver, whole.
 */
export function receiverOf(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}`;
  } catch {
    return url;
  }
}
