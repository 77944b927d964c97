// Join and renewal: a join token (or a still-valid host certificate) traded for a service's host
// identity, i.e. an X.509 host certificate for its TLS key and, when it sends one, an SSH host
// certificate for its SSH host key. Every refusal is audited with its reason and counted against
// the source address, so guessing tokens is slow and visible.
import { createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import { formatCertificateLine, parseAuthorizedKey, wireToPublicKey } from '../../src-shared/sshcert/index.ts';
import type { AuditEmitter } from '../audit/audit-events.ts';
import { errorMessage, recordRefusal } from '../audit/audit-emit.ts';
import type { CertAuthorities } from '../auth/authorities.ts';
import {
  HOST_CERT_TTL_MS,
  issueHostCert,
  SERVICE_ROLES,
  type HostIdentity,
  type ServiceRole,
} from '../auth/host-identity.ts';
import { FailureLimiter } from '../auth/ratelimit.ts';
import type { Logger } from '../log/logger.ts';
import { nameProblem } from '../resources/fields.ts';
import { JoinRefusedError, type JoinTokenStore } from './join-tokens.ts';
import type { ServerInventory } from './server-inventory.ts';

/** Failed joins per source address per minute before it must wait. */
export const MAX_FAILED_JOINS_PER_MINUTE = 10;
const MAX_EXTRA_NAMES = 32;

export interface HostKeys {
  sshPublicKey: string;
  tlsPublicKeyPem: string;
  dnsNames: string[];
  ips: string[];
}

export interface JoinInput extends HostKeys {
  token: string;
  role: string;
  name: string;
  peerAddress: string;
}

export interface HostIdentityIssued {
  clusterName: string;
  hostId: string;
  tlsCertPem: string;
  sshHostCert: string;
  expires: Date;
  tlsHostCaPems: string[];
  tlsUserCaPems: string[];
  sshUserCaKeys: string[];
}

export interface HostJoinDeps {
  clusterName: string;
  cas: CertAuthorities;
  /** Signs an SSH host certificate (AuthServer.signHostCert). */
  signHostCert: (key: KeyObject, principals: string[], ttlMs: number) => Buffer;
  tokens: JoinTokenStore;
  servers: ServerInventory;
  audit: AuditEmitter;
  log: Logger;
  certTtlMs?: number;
}

function bad(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.BAD_REQUEST, message);
}

/** Checks the keys and names a service sends; returns the parsed keys. */
export function parseHostKeys(keys: HostKeys): { tlsKey: KeyObject; sshKey?: KeyObject } {
  let tlsKey: KeyObject;
  try {
    tlsKey = createPublicKey(keys.tlsPublicKeyPem);
  } catch (e) {
    throw bad(`tls_public_key_pem is not a PEM public key: ${errorMessage(e)}`);
  }
  if (tlsKey.asymmetricKeyType !== 'ec' || tlsKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw bad('tls_public_key_pem must be an ECDSA P-256 key');
  }
  let sshKey: KeyObject | undefined;
  if (keys.sshPublicKey) {
    try {
      sshKey = wireToPublicKey(parseAuthorizedKey(keys.sshPublicKey));
    } catch (e) {
      throw bad(`ssh_public_key is not an OpenSSH public key: ${errorMessage(e)}`);
    }
  }
  if (keys.dnsNames.length + keys.ips.length > MAX_EXTRA_NAMES) {
    throw bad(`at most ${MAX_EXTRA_NAMES} DNS names and IPs together`);
  }
  for (const d of keys.dnsNames) {
    if (nameProblem(d.toLowerCase())) throw bad(`dns name ${JSON.stringify(d.slice(0, 300))} is not a valid host name`);
  }
  for (const ip of keys.ips) if (!isIP(ip)) throw bad(`${JSON.stringify(ip.slice(0, 100))} is not an IP address`);
  return sshKey ? { tlsKey, sshKey } : { tlsKey };
}

export class HostJoin {
  private readonly failures = new FailureLimiter({ maxFailures: MAX_FAILED_JOINS_PER_MINUTE, windowMs: 60_000 });

  constructor(private readonly deps: HostJoinDeps) {}

  async join(input: JoinInput): Promise<HostIdentityIssued> {
    const source = `join:${input.peerAddress}`;
    const wait = this.failures.retryAfterMs(source);
    if (wait > 0) {
      const err = new GatehouseError(
        ErrorCode.RATE_LIMITED,
        `too many failed joins from this address; try again in ${Math.ceil(wait / 1000)} s`,
      );
      await this.recordFailure(input, 'rate_limited', err, undefined);
      throw err;
    }
    try {
      const role = this.checkRole(input.role);
      const problem = nameProblem(input.name);
      if (problem) throw bad(`service name: ${problem}`);
      const keys = parseHostKeys(input);
      if (!input.token) throw new JoinRefusedError('unknown_token', 'a join token is required');
      // Checked before the token is spent, so a taken name does not cost a single-use token.
      await this.deps.servers.requireNameFree(role, input.name);
      const token = await this.deps.tokens.spend(input.token, role);
      const hostId = randomUUID();
      const issued = await this.issue({ hostId, name: input.name, role }, keys, input);
      await this.deps.audit.emit({
        type: 'join.token.used',
        success: true,
        fields: { role, name: input.name, host_id: hostId, token_id: token.id, peer_address: input.peerAddress },
      });
      this.deps.log.info('service joined', { role, name: input.name, host_id: hostId, token: token.id });
      return issued;
    } catch (e) {
      const reason = e instanceof JoinRefusedError ? e.reason : isGatehouseError(e) ? e.code.toLowerCase() : 'internal';
      // Only token refusals count toward the limit: they are what a guesser produces.
      if (e instanceof JoinRefusedError) this.failures.recordFailure(source);
      await this.recordFailure(input, reason, e, e instanceof JoinRefusedError ? e.tokenId : undefined);
      throw e;
    }
  }

  /** Fresh certificates for the same host id, name and role; the current certificate is the proof. */
  async renew(host: HostIdentity, keys: HostKeys): Promise<HostIdentityIssued> {
    if (host.clusterName !== this.deps.clusterName) {
      throw new GatehouseError(ErrorCode.CERT_INVALID, `host certificate is for cluster "${host.clusterName}"`);
    }
    const parsed = parseHostKeys(keys);
    const issued = await this.issue(host, parsed, keys);
    this.deps.log.info('service identity renewed', { role: host.role, name: host.name, host_id: host.hostId });
    return issued;
  }

  private checkRole(role: string): ServiceRole {
    if (!(SERVICE_ROLES as readonly string[]).includes(role)) {
      throw bad(`role must be one of ${SERVICE_ROLES.join(', ')}, got ${JSON.stringify(role.slice(0, 50))}`);
    }
    return role as ServiceRole;
  }

  private async issue(
    who: { hostId: string; name: string; role: ServiceRole },
    keys: { tlsKey: KeyObject; sshKey?: KeyObject },
    names: { dnsNames: string[]; ips: string[] },
  ): Promise<HostIdentityIssued> {
    const { cas, clusterName } = this.deps;
    const ttl = this.deps.certTtlMs ?? HOST_CERT_TTL_MS;
    const now = Date.now();
    // Whole seconds, so expires_unix and both certificates name the same instant.
    const expires = new Date(Math.floor((now + ttl) / 1000) * 1000);
    const tlsCertPem = await issueHostCert({
      ca: cas.tlsHost.material,
      publicKey: keys.tlsKey,
      notBefore: new Date(now - 60_000),
      notAfter: expires,
      clusterName,
      ...who,
      dnsNames: names.dnsNames,
      ips: names.ips,
    });
    const principals = [...new Set([who.name, ...names.dnsNames, ...names.ips])];
    const sshHostCert = keys.sshKey
      ? formatCertificateLine(this.deps.signHostCert(keys.sshKey, principals, expires.getTime() - now), who.name)
      : '';
    return {
      clusterName,
      hostId: who.hostId,
      tlsCertPem,
      sshHostCert,
      expires,
      tlsHostCaPems: [cas.tlsHost.material.certPem],
      tlsUserCaPems: [cas.tlsUser.material.certPem],
      sshUserCaKeys: [cas.sshUser.authorizedKey],
    };
  }

  private async recordFailure(input: JoinInput, reason: string, error: unknown, tokenId: string | undefined) {
    const fields = {
      reason,
      role: input.role.slice(0, 50),
      name: input.name.slice(0, 253),
      peer_address: input.peerAddress,
      ...(tokenId ? { token_id: tokenId } : {}),
    };
    this.deps.log.warn('join refused', fields);
    await recordRefusal(
      this.deps.audit,
      { type: 'join.token.failed', success: false, message: errorMessage(error), fields },
      this.deps.log,
    );
  }
}
