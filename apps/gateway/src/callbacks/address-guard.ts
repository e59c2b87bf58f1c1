import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';

/** Which non-public ranges callbacks may reach: none (production), loopback (development) or all. */
export type PrivateAccess = 'none' | 'loopback' | 'all';

type Range = 'loopback' | 'private' | 'link-local' | 'unspecified';

function ipv4Range(address: string): Range | undefined {
  const [a, b] = address.split('.').map(Number) as [number, number];
  if (a === 127) return 'loopback';
  if (a === 0) return 'unspecified';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return 'private';
  if (a === 169 && b === 254) return 'link-local'; // includes the cloud metadata address 169.254.169.254
  return undefined;
}

/** The non-public range an address is in, if any. */
export function nonPublicRange(address: string): Range | undefined {
  if (isIP(address) === 4) return ipv4Range(address);
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return ipv4Range(mapped[1]!);
  if (lower === '::1') return 'loopback';
  if (lower === '::') return 'unspecified';
  if (/^f[cd]/.test(lower)) return 'private';
  if (/^fe[89ab]/.test(lower)) return 'link-local';
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
