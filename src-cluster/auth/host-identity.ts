// Host identities: the X.509 certificate a joined service (proxy, node, db, app) holds, signed by
// the cluster's TLS HOST CA. It names the service so auth can tell who is calling without any
// state: CN = service name, O = cluster name, OU = role, SAN URI gatehouse-host:<host id>, plus
// the DNS names and IPs the service answers on. It is both the service's mTLS client cert (to
// auth) and its server cert (to its own clients), hence both extended key usages.
import type { DerMemo } from './der-memo.ts';
import { X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { issueCertificate, type TlsCaMaterial } from './x509.ts';

/** Roles a joined service can have; a join token allows some, a host certificate names one. */
export const SERVICE_ROLES = ['node', 'proxy', 'db', 'app'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

export const HOST_ID_URI_SCHEME = 'gatehouse-host:';
/** Host certificates live a day: short enough that a removed service falls out soon, renewed hourly. */
export const HOST_CERT_TTL_MS = 24 * 3600_000;

export interface HostIdentity {
  hostId: string;
  name: string;
  role: ServiceRole;
  clusterName: string;
  notAfter: Date;
}

export interface HostCertParams {
  ca: TlsCaMaterial;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  clusterName: string;
  hostId: string;
  name: string;
  role: ServiceRole;
  dnsNames: string[];
  ips: string[];
}

export async function issueHostCert(params: HostCertParams): Promise<string> {
  const names = [
    { type: 'url' as const, value: HOST_ID_URI_SCHEME + params.hostId },
    ...params.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...params.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  return issueCertificate(
    params,
    [{ CN: [params.name] }, { O: [params.clusterName] }, { OU: [params.role] }],
    [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  );
}

/** Parsed CA certificates, cached: the check runs on every authenticated connection. */
const parsedCas = new Map<string, NodeX509>();
function parsedCa(pem: string): NodeX509 {
  let ca = parsedCas.get(pem);
  if (!ca) {
    ca = new NodeX509(pem);
    if (parsedCas.size > 64) parsedCas.clear();
    parsedCas.set(pem, ca);
  }
  return ca;
}

/** True when one of `caPems` issued and signed this certificate (validity dates not checked). */
export function issuedByOneOf(cert: NodeX509, caPems: readonly string[]): boolean {
  return caPems.some((pem) => {
    const ca = parsedCa(pem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  });
}

/**
 * The host identity of a certificate, ONLY when it verifies against one of the HOST CA
 * certificates and carries every host field; undefined otherwise (a user certificate, another
 * cluster's, or a host CA certificate without a host id such as the legacy proxy cert).
 */
export function hostIdentityFromCert(
  der: Buffer,
  hostCaPems: readonly string[],
  memo?: DerMemo<HostIdentity | null>,
): HostIdentity | undefined {
  let cert: NodeX509;
  try {
    cert = new NodeX509(der);
  } catch {
    return undefined;
  }
  // The signature is checked on every call; only the parse of the fields may come from `memo`.
  if (!issuedByOneOf(cert, hostCaPems)) return undefined;
  return (memo ? memo.get(der) : hostFieldsOf(der)) ?? undefined;
}

/** The host fields of a certificate (null when one is missing); its issuer NOT checked here. */
export function hostFieldsOf(der: Buffer): HostIdentity | null {
  const parsed = new x509.X509Certificate(Uint8Array.from(der));
  const field = (name: string) => parsed.subjectName.getField(name);
  const [name] = field('CN');
  const [clusterName] = field('O');
  const [role] = field('OU');
  const san = parsed.getExtension(x509.SubjectAlternativeNameExtension);
  const uri = san?.names.items.find((n) => n.type === 'url' && n.value.startsWith(HOST_ID_URI_SCHEME));
  const hostId = uri?.value.slice(HOST_ID_URI_SCHEME.length);
  if (!name || !clusterName || !hostId || !(SERVICE_ROLES as readonly string[]).includes(role ?? '')) return null;
  return { hostId, name, role: role as ServiceRole, clusterName, notAfter: new Date(new NodeX509(der).validTo) };
}
