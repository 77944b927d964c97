// The service side of ClusterService.Join and RenewIdentity: generate key pairs, send only the
// public halves, keep what auth signs. Before a join token leaves this process, auth's TLS host
// CA is checked: against the CAs the caller already trusts (the in-process join), against the
// configured ca_pin, or — with neither — trusted on first use with a warning, as Teleport does.
import * as tls from 'node:tls';
import { createHash, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { ClusterService, type JoinResponse } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { formatAuthorizedKey, privateKeyToOpenSSH, publicKeyToWire } from '../../src-shared/sshcert/index.ts';
import { fromConnectError } from '../api/errors.ts';
import type { Logger } from '../log/logger.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import type { HostIdentity, JoinableRole } from './host-identity-file.ts';
import { TLS_CLIENT_SETTINGS } from '../../src-shared/tls-settings.ts';

export type ClusterClient = Client<typeof ClusterService>;

/** A call to auth that does not answer within this is treated as auth being down. */
export const AUTH_CALL_TIMEOUT_MS = 10_000;
const AUTH_PING_INTERVAL_MS = 15_000;

export interface JoinRequestOptions {
  authServer: string;
  token: string;
  role: JoinableRole;
  name: string;
  dnsNames: string[];
  ips: string[];
  /** Auth's TLS host CA(s) when already known (the single process); skips the pin check. */
  trustedCaPems?: string[];
  /** "SHA256:<hex>" of auth's TLS host CA. */
  caPin?: string;
  log: Logger;
}

interface FreshKeys {
  tlsKey: KeyObject;
  sshKey?: KeyObject;
}

function freshKeys(role: JoinableRole): FreshKeys {
  const tlsKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  // Only nodes speak SSH; the proxy relays SSH bytes and never needs a host key of its own.
  return role === 'node' ? { tlsKey, sshKey: generateKeyPairSync('ed25519').privateKey } : { tlsKey };
}

function publicHalves(keys: FreshKeys): { sshPublicKey: string; tlsPublicKeyPem: string } {
  return {
    sshPublicKey: keys.sshKey ? formatAuthorizedKey(publicKeyToWire(createPublicKey(keys.sshKey))) : '',
    tlsPublicKeyPem: createPublicKey(keys.tlsKey).export({ format: 'pem', type: 'spki' }) as string,
  };
}

/** A Connect client for ClusterService at `authServer`, verifying auth against `caPems`, with an optional client cert. */
export function clusterClientFor(
  authServer: string,
  caPems: string[],
  clientCert?: { certPem: string; keyPem: string },
): ClusterClient {
  const [host] = splitHostPort(authServer);
  const transport = createConnectTransport({
    httpVersion: '2',
    baseUrl: `https://${authServer}`,
    // The watch stream can be silent for hours; pings notice an auth host that vanished without
    // closing the connection (power loss, network cut), so the service reconnects elsewhere.
    pingIntervalMs: AUTH_PING_INTERVAL_MS,
    pingTimeoutMs: AUTH_CALL_TIMEOUT_MS,
    nodeOptions: {
      ca: caPems,
      ...(clientCert ? { cert: clientCert.certPem, key: clientCert.keyPem } : {}),
      // IP addresses are checked against the certificate's IP names; SNI takes only host names.
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      ...TLS_CLIENT_SETTINGS,
    },
  });
  return createClient(ClusterService, transport);
}

/** The client a joined service talks to auth with: mTLS with its host certificate. */
export function clusterClientOf(identity: HostIdentity, authServer: string): ClusterClient {
  return clusterClientFor(authServer, identity.tls_host_ca_pems, {
    certPem: identity.tls_cert_pem,
    keyPem: identity.tls_key_pem,
  });
}

/** The CA at the top of the chain auth presents, checked against `pin` when given. */
export async function discoverAuthCa(authServer: string, pin: string | undefined, log: Logger): Promise<string> {
  const [host, port] = splitHostPort(authServer);
  const chain = await new Promise<tls.DetailedPeerCertificate>((resolve, reject) => {
    // Verification happens below, against the pin: this connection only fetches the chain.
    const socket = tls.connect(
      { host, port: Number(port), rejectUnauthorized: false, ALPNProtocols: ['h2'], ...TLS_CLIENT_SETTINGS },
      () => {
        resolve(socket.getPeerCertificate(true));
        socket.destroy();
      },
    );
    socket.setTimeout(AUTH_CALL_TIMEOUT_MS, () => socket.destroy(new Error('no TLS handshake within 10 s')));
    socket.once('error', (e) =>
      reject(new GatehouseError(ErrorCode.PROXY_UNREACHABLE, `cannot reach auth at ${authServer}: ${e.message}`)),
    );
  });
  let top = chain;
  while (top.issuerCertificate && top.issuerCertificate !== top) top = top.issuerCertificate;
  const pem = new X509Certificate(top.raw).toString();
  const fingerprint = 'SHA256:' + createHash('sha256').update(top.raw).digest('hex');
  if (pin && fingerprint !== pin) {
    throw new GatehouseError(
      ErrorCode.PROXY_UNTRUSTED,
      `auth at ${authServer} presents CA ${fingerprint}, not the pinned ${pin}: refusing to send the join token`,
    );
  }
  if (!pin) {
    log.warn("joining without ca_pin: trusting auth's CA on first use; set ca_pin (gatectl status) to check it", {
      auth_server: authServer,
      ca: fingerprint,
    });
  }
  return pem;
}

function identityFrom(
  res: JoinResponse,
  keys: FreshKeys,
  role: JoinableRole,
  name: string,
  authServer: string,
): HostIdentity {
  if (!res.tlsCertPem || res.tlsHostCaPems.length === 0) {
    throw new GatehouseError(ErrorCode.INTERNAL, 'auth answered the join without a certificate or CA');
  }
  return {
    version: 1,
    cluster_name: res.clusterName,
    host_id: res.hostId,
    role,
    name,
    auth_server: authServer,
    tls_key_pem: keys.tlsKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    tls_cert_pem: res.tlsCertPem,
    ssh_key: keys.sshKey ? privateKeyToOpenSSH(keys.sshKey, `gatehouse-${role}`) : '',
    ssh_host_cert: res.sshHostCert,
    issued_unix: Math.floor(Date.now() / 1000),
    expires_unix: Number(res.expiresUnix),
    tls_host_ca_pems: res.tlsHostCaPems,
    tls_user_ca_pems: res.tlsUserCaPems,
    ssh_user_ca_keys: res.sshUserCaKeys,
  };
}

/** Proves the token once and returns the new host identity (not yet saved). */
export async function joinCluster(opts: JoinRequestOptions): Promise<HostIdentity> {
  const caPems = opts.trustedCaPems ?? [await discoverAuthCa(opts.authServer, opts.caPin, opts.log)];
  const keys = freshKeys(opts.role);
  const client = clusterClientFor(opts.authServer, caPems);
  try {
    const res = await client.join(
      {
        token: opts.token,
        role: opts.role,
        name: opts.name,
        ...publicHalves(keys),
        dnsNames: opts.dnsNames,
        ips: opts.ips,
      },
      { timeoutMs: AUTH_CALL_TIMEOUT_MS },
    );
    return identityFrom(res, keys, opts.role, opts.name, opts.authServer);
  } catch (e) {
    throw fromConnectError(e);
  }
}

/** A fresh identity (new keys) for the same service, authenticated by the current one. */
export async function renewHostIdentity(
  client: ClusterClient,
  current: HostIdentity,
  names: { dnsNames: string[]; ips: string[] },
): Promise<HostIdentity> {
  const keys = freshKeys(current.role);
  try {
    const res = await client.renewIdentity({ ...publicHalves(keys), ...names }, { timeoutMs: AUTH_CALL_TIMEOUT_MS });
    return { ...identityFrom(res, keys, current.role, current.name, current.auth_server), host_id: current.host_id };
  } catch (e) {
    throw fromConnectError(e);
  }
}

/** When the certificate itself says it expires (the file's expires_unix comes from auth's answer). */
export function certExpiresMs(certPem: string): number {
  return new Date(new X509Certificate(certPem).validTo).getTime();
}
