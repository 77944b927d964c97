// X.509 certificate authorities and issuance for the cluster's TLS: the user CA signs client
// certificates for mTLS (route certificates too, with their route fields), the host CA signs the
// proxy's (and later services') server certificates, the database CA what db-certs.ts issues.
// All keys are ECDSA P-256: the same client key also backs the user's SSH certificate.
import { webcrypto, createPublicKey, createPrivateKey, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  hasAnyDeviceField,
  OID_ROUTE_DB_NAME,
  OID_ROUTE_DB_USER,
  OID_ROUTE_KIND,
  OID_ROUTE_NAME,
  readDeviceFields,
  X509_DEVICE_OIDS,
  type CertRoute,
  type DeviceFields,
} from '../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { certificatePem, clientSubject, extension, signClientCert, type DerIssuer } from './client-cert-der.ts';

const subtle = webcrypto.subtle;
const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
// @peculiar/x509 is typed against the DOM's WebCrypto types; Node's are the same objects.
type X509Key = x509.X509CertificateCreateWithKeyParams['signingKey'];
type X509KeyPair = x509.X509CertificateCreateSelfSignedParams['keys'];

/** OID under which Gatehouse puts the user's allowed logins (JSON list) in client certificates. */
export const OID_GATEHOUSE_LOGINS = '1.3.6.1.4.1.59999.1.1';

export interface TlsCaMaterial {
  certPem: string;
  keyPem: string;
}

export interface TlsIdentity {
  user: string;
  roles: string[];
  logins: string[];
  notAfter: Date;
  /** Set when the certificate was re-issued after device authentication (all three fields). */
  device?: DeviceFields;
  /** Any device field at all, even a partial set: such a certificate is never re-issued again. */
  anyDeviceField?: true;
  /** Set on a route certificate (AuthService.IssueRouteCertificate): the one resource it is for. */
  route?: CertRoute;
}

/** Everything needed to re-issue a client certificate unchanged but for added fields. */
export interface ClientCertContents extends TlsIdentity {
  notBefore: Date;
  publicKey: KeyObject;
}

async function importSigningKey(keyPem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(keyPem).export({ format: 'der', type: 'pkcs8' });
  return subtle.importKey('pkcs8', der, EC_ALG, false, ['sign']);
}

async function importPublicKey(key: KeyObject): Promise<webcrypto.CryptoKey> {
  const der = key.export({ format: 'der', type: 'spki' });
  return subtle.importKey('spki', der, EC_ALG, true, ['verify']);
}

export async function createCertAuthority(commonName: string, clusterName: string, years = 10): Promise<TlsCaMaterial> {
  const keys = (await subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [commonName] }, { O: [clusterName] }],
    keys: keys as unknown as X509KeyPair,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + years * 365 * 24 * 3600_000),
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as X509Key),
    ],
  });
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;
  return { certPem: cert.toString('pem'), keyPem };
}

export interface IssueParams {
  ca: TlsCaMaterial;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
}

/**
 * What every certificate a CA issues needs from the CA itself: its parsed certificate, its
 * imported signing key and the authority key identifier. Made once per CA material (a login and
 * its device re-issue each sign, on the login's critical path): parsing, importing and hashing
 * them anew was about half of an issuance's CPU.
 */
interface IssuerParts {
  certPem: string;
  keyPem: string;
  caCert: x509.X509Certificate;
  signingKey: Promise<webcrypto.CryptoKey>;
  authorityKeyId: Promise<x509.AuthorityKeyIdentifierExtension>;
  /** The same for the DER encoder of client certificates (client-cert-der.ts). */
  der: Promise<DerIssuer>;
}

const issuerParts = new WeakMap<TlsCaMaterial, IssuerParts>();

function issuerFor(ca: TlsCaMaterial): IssuerParts {
  const known = issuerParts.get(ca);
  // Keyed by the material object; a material changed in place (never done) is still not reused.
  if (known && known.certPem === ca.certPem && known.keyPem === ca.keyPem) return known;
  const caCert = new x509.X509Certificate(ca.certPem);
  const authorityKeyId = x509.AuthorityKeyIdentifierExtension.create(caCert);
  const parts: IssuerParts = {
    certPem: ca.certPem,
    keyPem: ca.keyPem,
    caCert,
    signingKey: importSigningKey(ca.keyPem),
    authorityKeyId,
    der: authorityKeyId.then((aki) => ({
      // The issuer is the CA's subject as its own certificate encodes it.
      subjectDer: Buffer.from(caCert.subjectName.toArrayBuffer()),
      authorityKeyIdExtension: Buffer.from(aki.rawData),
      signingKey: createPrivateKey(ca.keyPem),
    })),
  };
  // A failed import is not kept: the next issuance tries again and reports its own error.
  parts.signingKey.catch(() => issuerParts.delete(ca));
  parts.authorityKeyId.catch(() => issuerParts.delete(ca));
  parts.der.catch(() => issuerParts.delete(ca));
  issuerParts.set(ca, parts);
  return parts;
}

export async function issueCertificate(
  params: IssueParams,
  subject: x509.JsonName,
  extensions: x509.Extension[],
): Promise<string> {
  const issuer = issuerFor(params.ca);
  const cert = await x509.X509CertificateGenerator.create({
    subject,
    issuer: issuer.caCert.subject,
    publicKey: (await importPublicKey(params.publicKey)) as unknown as X509Key,
    signingKey: (await issuer.signingKey) as unknown as X509Key,
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      ...extensions,
      await issuer.authorityKeyId,
    ],
  });
  return cert.toString('pem');
}

/** The route fields as private extensions (value: raw UTF-8 text); absent db user/name are left out. */
function routeExtensions(route: CertRoute | undefined): Buffer[] {
  if (!route) return [];
  const fields: Array<[string, string | undefined]> = [
    [OID_ROUTE_KIND, route.kind],
    [OID_ROUTE_NAME, route.name],
    [OID_ROUTE_DB_USER, route.dbUser],
    [OID_ROUTE_DB_NAME, route.dbName],
  ];
  return fields
    .filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '')
    .map(([oid, value]) => extension(oid, Buffer.from(value, 'utf8')));
}

/** The route a certificate names, or undefined when it has no (complete) route kind and name. */
function readRoute(cert: x509.X509Certificate): CertRoute | undefined {
  const kind = extensionText(cert, OID_ROUTE_KIND);
  const name = extensionText(cert, OID_ROUTE_NAME);
  if (!kind || !name) return undefined;
  const dbUser = extensionText(cert, OID_ROUTE_DB_USER);
  const dbName = extensionText(cert, OID_ROUTE_DB_NAME);
  return { kind, name, ...(dbUser ? { dbUser } : {}), ...(dbName ? { dbName } : {}) };
}

/**
 * Client certificate: CN = user, O = each role; logins, device fields and (route certificates
 * only) the route fields in private extensions. Built by client-cert-der.ts (a login issues one,
 * its device re-issue another, both on the auth server's event loop), same bytes as
 * @peculiar/x509 built them.
 */
export async function issueClientCert(
  params: IssueParams & { user: string; roles: string[]; logins: string[]; device?: DeviceFields; route?: CertRoute },
): Promise<string> {
  const key = params.publicKey;
  // What importing the key as ECDSA P-256 refused before; the login refuses other keys earlier.
  if (
    key.type !== 'public' ||
    key.asymmetricKeyType !== 'ec' ||
    key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'a client certificate certifies an ECDSA P-256 public key only');
  }
  const device = params.device;
  const der = signClientCert(await issuerFor(params.ca).der, {
    subject: clientSubject(params.user, params.roles),
    spki: key.export({ format: 'der', type: 'spki' }),
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    extensions: [
      extension(OID_GATEHOUSE_LOGINS, Buffer.from(JSON.stringify(params.logins))),
      ...(device
        ? Object.entries(X509_DEVICE_OIDS).map(([field, oid]) =>
            extension(oid, Buffer.from(device[field as keyof DeviceFields], 'utf8')),
          )
        : []),
      ...routeExtensions(params.route),
    ],
  });
  return certificatePem(der);
}

/** A plain client certificate (CN only, clientAuth), e.g. the db service's login to a database. */
export async function issueNamedClientCert(params: IssueParams & { commonName: string }): Promise<string> {
  return issueCertificate(
    params,
    [{ CN: [params.commonName] }],
    [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  );
}

/** A private extension's raw UTF-8 value, or undefined when the certificate lacks it. */
function extensionText(cert: x509.X509Certificate, oid: string): string | undefined {
  const e = cert.getExtension(oid);
  return e ? Buffer.from(e.value).toString('utf8') : undefined;
}

/** Server certificate for a host name / IP list (subjectAltName), e.g. the proxy. */
export async function issueServerCert(
  params: IssueParams & { commonName: string; dnsNames: string[]; ips: string[] },
): Promise<string> {
  const names = [
    ...params.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...params.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  return issueCertificate(
    params,
    [{ CN: [params.commonName] }],
    [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  );
}

/** Reads the identity out of a client certificate that TLS has already verified against the user CA. */
export function identityFromClientCert(der: Buffer | string): TlsIdentity {
  // A copy as Uint8Array<ArrayBuffer>: @peculiar/x509 takes no Buffer over a possibly shared buffer.
  const cert = new x509.X509Certificate(typeof der === 'string' ? der : Uint8Array.from(der));
  const cn = cert.subjectName.getField('CN');
  const roles = cert.subjectName.getField('O');
  const ext = cert.getExtension(OID_GATEHOUSE_LOGINS);
  let logins: string[] = [];
  if (ext) {
    const parsed: unknown = JSON.parse(Buffer.from(ext.value).toString('utf8'));
    if (Array.isArray(parsed)) logins = parsed.filter((l): l is string => typeof l === 'string');
  }
  const identity: TlsIdentity = { user: cn[0] ?? '', roles, logins, notAfter: cert.notAfter };
  const device = readDeviceFields(X509_DEVICE_OIDS, (oid) => extensionText(cert, oid));
  if (device) identity.device = device;
  if (hasAnyDeviceField(X509_DEVICE_OIDS, (oid) => extensionText(cert, oid))) identity.anyDeviceField = true;
  const route = readRoute(cert);
  if (route) identity.route = route;
  return identity;
}

/** The identity plus validity and key of a client certificate (PEM or DER), for re-issuing it. */
export function clientCertContents(cert: Buffer | string): ClientCertContents {
  const parsed = new NodeX509(cert);
  return {
    ...identityFromClientCert(parsed.raw),
    notBefore: new Date(parsed.validFrom),
    publicKey: createPublicKey(parsed.publicKey.export({ format: 'pem', type: 'spki' })),
  };
}

export function certFingerprint(pem: string): string {
  return 'SHA256:' + new NodeX509(pem).fingerprint256.replaceAll(':', '').toLowerCase();
}

export function publicKeyOfCert(pem: string): KeyObject {
  return createPublicKey(new NodeX509(pem).publicKey.export({ format: 'pem', type: 'spki' }));
}
