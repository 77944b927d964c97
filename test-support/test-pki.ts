// Test-only: a throwaway X.509 PKI (CA, server and client certificates, ECDSA P-256) and a real
// TLS server that presents a chain, so trust decisions are tested against real handshakes.
import { webcrypto, createPrivateKey, createPublicKey } from 'node:crypto';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

const subtle = webcrypto.subtle;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
type Keys = x509.X509CertificateCreateSelfSignedParams['keys'];
type Key = x509.X509CertificateCreateWithKeyParams['signingKey'];

export interface TestCert {
  certPem: string;
  keyPem: string;
}

async function keyPair(): Promise<{ keys: Keys; keyPem: string }> {
  const pair = (await subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', pair.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;
  return { keys: pair as unknown as Keys, keyPem };
}

async function importPair(pem: string): Promise<{ keys: Keys; keyPem: string }> {
  const spki = createPublicKey(pem).export({ format: 'der', type: 'spki' });
  const publicKey = await subtle.importKey('spki', spki, EC, true, ['verify']);
  return { keys: { publicKey } as unknown as Keys, keyPem: pem };
}

const window = () => ({ notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 24 * 3600_000) });

export async function makeCa(name: string): Promise<TestCert & { keys: Keys }> {
  const { keys, keyPem } = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    ...window(),
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem, keys };
}

export async function makeLeaf(
  ca: TestCert & { keys: Keys },
  opts: { cn: string; dns?: string[]; ips?: string[]; client?: boolean; keyPem?: string },
): Promise<TestCert> {
  // With keyPem the certificate is for that (client) key, as the cluster issues them at login.
  const { keys, keyPem } = opts.keyPem ? await importPair(opts.keyPem) : await keyPair();
  const names = [
    ...(opts.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${opts.cn}`,
    issuer: new x509.X509Certificate(ca.certPem).subject,
    publicKey: (keys as unknown as { publicKey: Key }).publicKey,
    signingKey: (ca.keys as unknown as { privateKey: Key }).privateKey,
    ...window(),
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([
        opts.client ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth,
      ]),
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem };
}

export interface RunningTls {
  port: number;
  server: tls.Server;
  close(): Promise<void>;
}

/** A TLS server presenting `leaf` followed by `chain`; connections get `onSocket`, or are ended. */
export async function startTlsServer(opts: {
  leaf: TestCert;
  chain?: string[];
  port?: number;
  alpn?: string[];
  ca?: string[];
  onSocket?: (s: tls.TLSSocket) => void;
}): Promise<RunningTls> {
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({
    cert: [opts.leaf.certPem, ...(opts.chain ?? [])].join('\n'),
    key: opts.leaf.keyPem,
    ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
    ...(opts.ca ? { ca: opts.ca, requestCert: true, rejectUnauthorized: false } : {}),
  });
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    if (opts.onSocket) opts.onSocket(s);
    else s.end();
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
