import { describe, expect, it } from 'vitest';
import { allowed, checkHost, nonPublicRange } from './address-guard.js';

/** How the URL parser hands a host over: `new URL('http://[::ffff:127.0.0.1]/').hostname` is `[::ffff:7f00:1]`. */
const hostOf = (host: string) => new URL(`http://${host}/`).hostname;

describe('nonPublicRange', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['100.64.0.1', 'private'],
    ['198.18.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['192.0.0.8', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::7f00:1', 'loopback'],
    ['::808:808', 'reserved'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b:1::1', 'private'],
    ['fd00::1', 'private'],
    ['fec0::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'reserved'],
  ])('%s is %s', (address, range) => {
    expect(nonPublicRange(address)).toBe(range);
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('%s is public', (address) => {
    expect(nonPublicRange(address)).toBeUndefined();
  });

  it.each(['[::ffff:127.0.0.1]', '[0:0:0:0:0:ffff:7f00:1]', '[::ffff:169.254.169.254]', '2130706433', '0x7f.1', '127.1'])('refuses the host %s, however the URL parser spells it', async (host) => {
    await expect(checkHost(hostOf(host), 'none')).rejects.toThrow(/resolves to/);
  });

  it('lets loopback through where loopback is allowed, and nothing else', () => {
    expect(allowed('::ffff:7f00:1', 'loopback')).toBe(true);
    expect(allowed('::ffff:a00:1', 'loopback')).toBe(false);
    expect(allowed('::ffff:a00:1', 'all')).toBe(true);
  });
});
