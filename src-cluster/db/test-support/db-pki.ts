// Test-only PKI for the db service: the cluster's host, user and database CAs (the production
// issuing code of auth/x509.ts and auth/host-identity.ts), host certificates for a proxy or a
// db service, route certificates as IssueRouteCertificate makes them, database server
// certificates, and a SignDatabaseClientCertificate stand-in signing with the database CA.
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  OID_ROUTE_DB_NAME,
  OID_ROUTE_DB_USER,
  OID_ROUTE_KIND,
  OID_ROUTE_NAME,
  X509_DEVICE_OIDS,
  type CertRoute,
  type DeviceFields,
} from '../../../src-shared/cert-fields.ts';
import { issueHostCert, type ServiceRole } from '../../auth/host-identity.ts';
import {
  createCertAuthority,
  issueCertificate,
  issueClientCert,
  issueServerCert,
  OID_GATEHOUSE_LOGINS,
  type TlsCaMaterial,
} from '../../auth/x509.ts';
import type { DbClientCertSigner } from '../upstream-tls.ts';

export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

export interface DbTestPki {
  hostCa: TlsCaMaterial;
  userCa: TlsCaMaterial;
  dbCa: TlsCaMaterial;
}

const HOUR = 3600_000;

function freshKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    publicKey: createPublicKey(privateKey),
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  };
}

export async function makeDbTestPki(): Promise<DbTestPki> {
  return {
    hostCa: await createCertAuthority('test host CA', 'test'),
    userCa: await createCertAuthority('test user CA', 'test'),
    dbCa: await createCertAuthority('test database CA', 'test'),
  };
}

export async function hostPair(ca: TlsCaMaterial, role: ServiceRole, name: string): Promise<KeyAndCert> {
  const key = freshKey();
  const now = Date.now();
  const certPem = await issueHostCert({
    ca,
    publicKey: key.publicKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + HOUR),
    clusterName: 'test',
    hostId: randomUUID(),
    name,
    role,
    dnsNames: ['localhost'],
    ips: ['127.0.0.1'],
  });
  return { certPem, keyPem: key.keyPem };
}

export interface RouteCertOptions {
  user: string;
  roles?: string[];
  route?: CertRoute;
  device?: DeviceFields;
  /** Validity window relative to now (default: -1 min .. +1 h). */
  notBeforeMs?: number;
  notAfterMs?: number;
}

/** A user certificate as IssueRouteCertificate issues it (user CA, route OIDs, device OIDs). */
export async function routeCert(ca: TlsCaMaterial, opts: RouteCertOptions): Promise<KeyAndCert> {
  const key = freshKey();
  const now = Date.now();
  const text = (oid: string, value: string) => new x509.Extension(oid, false, Buffer.from(value, 'utf8'));
  const route = opts.route;
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    text(OID_GATEHOUSE_LOGINS, '[]'),
    ...(opts.device
      ? Object.entries(X509_DEVICE_OIDS).map(([f, oid]) => text(oid, opts.device![f as keyof DeviceFields]))
      : []),
    ...(route ? [text(OID_ROUTE_KIND, route.kind), text(OID_ROUTE_NAME, route.name)] : []),
    ...(route?.dbUser ? [text(OID_ROUTE_DB_USER, route.dbUser)] : []),
    ...(route?.dbName ? [text(OID_ROUTE_DB_NAME, route.dbName)] : []),
  ];
  const subject: x509.JsonName = [{ CN: [opts.user] }];
  if (opts.roles?.length) subject.push({ O: opts.roles });
  const certPem = await issueCertificate(
    {
      ca,
      publicKey: key.publicKey,
      notBefore: new Date(now + (opts.notBeforeMs ?? -60_000)),
      notAfter: new Date(now + (opts.notAfterMs ?? HOUR)),
    },
    subject,
    extensions,
  );
  return { certPem, keyPem: key.keyPem };
}

/** A database server certificate (as `gatectl auth sign --format db` writes it). */
export async function dbServerPair(ca: TlsCaMaterial, names: { dns?: string[]; ips?: string[] }): Promise<KeyAndCert> {
  const key = freshKey();
  const now = Date.now();
  const certPem = await issueServerCert({
    ca,
    publicKey: key.publicKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + HOUR),
    commonName: names.dns?.[0] ?? names.ips?.[0] ?? 'db',
    dnsNames: names.dns ?? [],
    ips: names.ips ?? [],
  });
  return { certPem, keyPem: key.keyPem };
}

/** SignDatabaseClientCertificate as auth answers it: CN = db user, database CA, 1 h; counts calls. */
export function fakeDbCertSigner(dbCa: TlsCaMaterial): DbClientCertSigner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async signDatabaseClientCertificate(req) {
      calls.push(req.dbUser);
      const now = Date.now();
      const notAfter = new Date(now + HOUR);
      const tlsCertPem = await issueClientCert({
        ca: dbCa,
        publicKey: createPublicKey(req.tlsPublicKeyPem),
        notBefore: new Date(now - 60_000),
        notAfter,
        user: req.dbUser,
        roles: [],
        logins: [],
      });
      return { tlsCertPem, dbCaPems: [dbCa.certPem], expiresUnix: BigInt(Math.floor(notAfter.getTime() / 1000)) };
    },
  };
}
