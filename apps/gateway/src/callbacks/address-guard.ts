import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';

/** Which non-public ranges callbacks may reach: none (production), loopback (development) or all. */
export type PrivateAccess = 'none' | 'loopback' | 'all';

type Range = 'loopback' | 'private' | 'link-local' | 'unspecified' | 'reserved';

function ipv4Range(address: string): Range | undefined {
  const [a, b, c] = address.split('.').map(Number) as [number, number, number];
  if (a === 127) return 'loopback';
  if (a === 0) return 'unspecified';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return 'private';
  if (a === 198 && (b === 18 || b === 19)) return 'private'; // benchmarking networks
  if (a === 169 && b === 254) return 'link-local'; // includes the cloud metadata address 169.254.169.254
  // IETF protocol assignments, multicast, the reserved 240/4 and broadcast.
  if ((a === 192 && b === 0 && c === 0) || a >= 224) return 'reserved';
  return undefined;
}

/** The eight 16-bit words of an IPv6 address, in any spelling (`::`, an IPv4 tail, a zone). */
function ipv6Words(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const words = (part: string) => (part === '' ? [] : part.split(':').map((word) => parseInt(word, 16)));
  if (rest === undefined) return words(head);
  const [before, after] = [words(head), words(rest)];
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}

function ipv6Range(address: string): Range | undefined {
  const words = ipv6Words(address);
  const zero = (count: number) => words.slice(0, count).every((word) => word === 0);
  const ipv4 = () => `${words[6]! >> 8}.${words[6]! & 255}.${words[7]! >> 8}.${words[7]! & 255}`;
  if (zero(8)) return 'unspecified';
  if (zero(7) && words[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d, however written), which Linux connects to over IPv4.
  if (zero(5) && words[5] === 0xffff) return ipv4Range(ipv4());
  // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96), which may reach IPv4 ranges too.
  if (zero(6)) return ipv4Range(ipv4()) ?? 'reserved';
  if (words[0] === 0x64 && words[1] === 0xff9b) return words.slice(2, 6).every((word) => word === 0) ? ipv4Range(ipv4()) : 'private';
  const first = words[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'private';
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xffc0) === 0xfec0) return 'private'; // site-local, deprecated
  if ((first & 0xff00) === 0xff00) return 'reserved'; // multicast
  return undefined;
}

/** The non-public range an address is in, if any. */
export function nonPublicRange(address: string): Range | undefined {
  const family = isIP(address.replace(/%.*$/, ''));
  if (family === 4) return ipv4Range(address);
  if (family === 6) return ipv6Range(address);
  return undefined;
}

export function allowed(address: string, access: PrivateAccess): boolean {
  const range = nonPublicRange(address);
  return range === undefined || access === 'all' || (access === 'loopback' && range === 'loopback');
}

export class AddressRefused extends Error {}

/**
 * Resolves the host and refuses it when any address it has is out of bounds. A name that does not
 * resolve now is let through: it is checked again, address by address, when a callback is sent.
 */
export async function checkHost(hostname: string, access: PrivateAccess): Promise<void> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookupAll(host).catch(() => [])).map((entry) => entry.address);
  const refused = addresses.find((address) => !allowed(address, access));
  if (refused) throw new AddressRefused(`${hostname} resolves to ${refused}, a ${nonPublicRange(refused)} address`);
}

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => dnsLookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));
}

/**
 * A `lookup` for http.request that checks the address it connects to, so a name that resolved to
 * a public address when checked cannot be rebound to a private one when the request is sent.
 */
export function guardedLookup(access: PrivateAccess) {
  return (hostname: string, options: LookupOptions, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const refused = addresses.find((entry) => !allowed(entry.address, access));
      if (refused) return callback(new AddressRefused(`${hostname} resolves to ${refused.address}, a ${nonPublicRange(refused.address)} address`), '');
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
