import 'reflect-metadata'; // @peculiar/x509 resolves its parts with tsyringe, which needs it
import { webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { DAY_MS } from '../common/time-range.js';

/** The host the official SDKs send every MPC and Recording call to. */
export const PLIVO_API_HOST = 'api.plivo.com';

export interface ProxyCertificate {
  /** The gateway's own CA, for clients to trust (`NODE_EXTRA_CA_CERTS`). */
  caPath: string;
  cert: string;
  key: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const VALID_YEARS = 10;

/**
 * The certificate the gateway serves api.plivo.com with inside an SDK's proxy tunnel, issued once
 * by a CA of its own and kept in `dir`. The CA's private key is thrown away once it has signed:
 * trusting the CA trusts that one certificate and nothing else.
 */
export async function proxyCertificate(dir: string): Promise<ProxyCertificate & { created: boolean }> {
  const paths = { ca: join(dir, 'gateway-ca.pem'), cert: join(dir, `${PLIVO_API_HOST}.pem`), key: join(dir, `${PLIVO_API_HOST}.key`) };
  const stored = await Promise.all([readFile(paths.ca, 'utf8'), readFile(paths.cert, 'utf8'), readFile(paths.key, 'utf8')]).catch(() => undefined);
  if (stored) return { caPath: paths.ca, cert: stored[1], key: stored[2], created: false };

  const issued = await issue();
  await mkdir(dir, { recursive: true });
  await writeFile(paths.key, issued.key, { mode: 0o600 });
  await chmod(paths.key, 0o600);
  await writeFile(paths.cert, issued.cert);
  await writeFile(paths.ca, issued.ca);
  return { caPath: paths.ca, cert: issued.cert, key: issued.key, created: true };
}

async function issue(): Promise<{ ca: string; cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto);
  const notBefore = new Date(Date.now() - DAY_MS); // a day's leeway for clients whose clocks lag
  const notAfter = new Date(Date.now() + VALID_YEARS * 365 * DAY_MS);
  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, false, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: 'CN=MPC recording gateway CA',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${PLIVO_API_HOST}`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: PLIVO_API_HOST }]),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const key = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { ca: ca.toString('pem'), cert: cert.toString('pem'), key };
}

function serialNumber(): string {
  // Positive, 16 random bytes, as RFC 5280 asks of a serial.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0]! &= 0x7f;
  return Buffer.from(bytes).toString('hex');
}
