import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { proxyCertificate } from './proxy-certificate.js';
import { isPlivoApi } from './sdk-proxy.js';

const dir = join(mkdtempSync(join(tmpdir(), 'mpc-tls-')), 'tls');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the SDK proxy certificate', () => {
  it('is issued once for api.plivo.com by a CA of the gateway\'s own, and kept', async () => {
    const first = await proxyCertificate(dir);
    expect(first.created).toBe(true);
    const ca = new X509Certificate(readFileSync(first.caPath));
    const cert = new X509Certificate(first.cert);
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe('DNS:api.plivo.com');
    expect(cert.checkHost('api.plivo.com')).toBe('api.plivo.com');
    expect(cert.checkHost('example.com')).toBeUndefined();
    expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(first.key))).toBe(true);
    expect(statSync(join(dir, 'api.plivo.com.key')).mode & 0o777).toBe(0o600);
    // The CA's key is gone: nothing else can be issued under it.
    expect(readFileSync(first.caPath, 'utf8')).not.toMatch(/PRIVATE KEY/);

    const again = await proxyCertificate(dir);
    expect(again).toEqual({ ...first, created: false });
  });

  it('serves only api.plivo.com:443', () => {
    expect(isPlivoApi('api.plivo.com:443')).toBe(true);
    expect(isPlivoApi('API.Plivo.com:443')).toBe(true);
    for (const target of ['api.plivo.com:80', 'api.plivo.com', 'example.com:443', 'api.plivo.com.evil.example:443', undefined]) {
      expect(isPlivoApi(target), String(target)).toBe(false);
    }
  });
});
