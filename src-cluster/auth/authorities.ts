// The cluster's certificate authorities, created once on first start and persisted in storage:
// SSH user CA (signs user certs that nodes and stock sshd trust), SSH host CA (signs node host
// certs), X.509 user CA (client certs for mTLS), X.509 host CA (server certs), and the X.509
// database CA (db service client certs that databases trust, and databases' server certs), and
// the JWT signing key (`jwt`, ECDSA P-256: the assertions app services add to upstream requests,
// published as a JWKS). An authority missing from an existing data dir (the database CA or the
// JWT key after an upgrade) is created on the next start.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Backend } from '../storage/backend.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { formatAuthorizedKey, fingerprintSha256, publicKeyToWire } from '../../src-shared/sshcert/index.ts';
import { certFingerprint, createCertAuthority, type TlsCaMaterial } from './x509.ts';
import type { Logger } from '../log/logger.ts';

export type CaType = 'ssh_user' | 'ssh_host' | 'tls_user' | 'tls_host' | 'tls_db' | 'jwt';
export const CA_TYPES: readonly CaType[] = ['ssh_user', 'ssh_host', 'tls_user', 'tls_host', 'tls_db', 'jwt'];
type TlsCaType = 'tls_user' | 'tls_host' | 'tls_db';

const TLS_CA_LABELS: Record<TlsCaType, string> = {
  tls_user: 'Gatehouse user CA',
  tls_host: 'Gatehouse host CA',
  tls_db: 'Gatehouse database CA',
};

interface StoredSshCa {
  kind: 'ssh';
  privateKeyPem: string;
}
interface StoredTlsCa extends TlsCaMaterial {
  kind: 'tls';
}
/** The JWT signing key pair: no certificate, only a key whose public half is published (JWKS). */
interface StoredJwtKey {
  kind: 'jwt';
  privateKeyPem: string;
}
type StoredCa = StoredSshCa | StoredTlsCa | StoredJwtKey;

export class SshCa {
  readonly publicBlob: Buffer;
  readonly authorizedKey: string;
  constructor(
    readonly type: 'ssh_user' | 'ssh_host',
    readonly privateKey: KeyObject,
    clusterName: string,
  ) {
    this.publicBlob = publicKeyToWire(createPublicKey(privateKey));
    this.authorizedKey = formatAuthorizedKey(this.publicBlob, `${clusterName}-${type.replace('_', '-')}-ca`);
  }
  get fingerprint(): string {
    return fingerprintSha256(this.publicBlob);
  }
}

export class TlsCa {
  constructor(
    readonly type: TlsCaType,
    readonly material: TlsCaMaterial,
  ) {}
  get fingerprint(): string {
    return certFingerprint(this.material.certPem);
  }
}

/** The JWT signing key (ES256). app-tokens.ts signs with it and derives the key id and JWKS. */
export class JwtAuthority {
  readonly type = 'jwt';
  readonly publicKey: KeyObject;
  constructor(readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
  }
  /** SPKI PEM of the public key (`gatectl auth export --type jwt`). */
  get publicKeyPem(): string {
    return this.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  }
  /** SHA256:hex of the SPKI DER, in the form the CAs' fingerprints take in `gatectl status`. */
  get fingerprint(): string {
    const der = this.publicKey.export({ format: 'der', type: 'spki' });
    return 'SHA256:' + createHash('sha256').update(der).digest('hex');
  }
}

export interface CertAuthorities {
  sshUser: SshCa;
  sshHost: SshCa;
  tlsUser: TlsCa;
  tlsHost: TlsCa;
  /** Signs the db service's client certificates (CN = db user) and databases' server certificates. */
  tlsDb: TlsCa;
  /** Signs the JWTs app services add to upstream requests (docs/app-access.md). */
  jwt: JwtAuthority;
}

const caKey = (type: CaType) => `/authorities/${type}`;

async function createCa(type: CaType, clusterName: string): Promise<StoredCa> {
  if (type === 'jwt') {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { kind: 'jwt', privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
  }
  if (type === 'ssh_user' || type === 'ssh_host') {
    const { privateKey } = generateKeyPairSync('ed25519');
    return { kind: 'ssh', privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
  }
  return { kind: 'tls', ...(await createCertAuthority(`${TLS_CA_LABELS[type]} (${clusterName})`, clusterName)) };
}

/**
 * Loads the CAs, creating any that are missing. Creation uses `create` (not put) so two auth
 * servers starting at once on shared storage agree on one CA instead of overwriting each other.
 */
export async function loadOrCreateAuthorities(
  backend: Backend,
  clusterName: string,
  log: Logger,
): Promise<CertAuthorities> {
  const loaded = new Map<CaType, StoredCa>();
  for (const type of CA_TYPES) {
    let item = await backend.get(caKey(type));
    if (!item) {
      const fresh = await createCa(type, clusterName);
      try {
        item = await backend.create({ key: caKey(type), value: JSON.stringify(fresh) });
        log.info('created certificate authority', { type });
      } catch (e) {
        if (!(e instanceof GatehouseError && e.code === ErrorCode.ALREADY_EXISTS)) throw e;
        item = await backend.get(caKey(type));
      }
    }
    if (!item) throw new GatehouseError(ErrorCode.STORAGE, `certificate authority ${type} vanished from storage`);
    loaded.set(type, JSON.parse(item.value) as StoredCa);
  }
  const ssh = (type: 'ssh_user' | 'ssh_host') => {
    const rec = loaded.get(type);
    if (rec?.kind !== 'ssh') throw new GatehouseError(ErrorCode.STORAGE, `stored CA ${type} is not an SSH CA`);
    return new SshCa(type, createPrivateKey(rec.privateKeyPem), clusterName);
  };
  const tls = (type: TlsCaType) => {
    const rec = loaded.get(type);
    if (rec?.kind !== 'tls') throw new GatehouseError(ErrorCode.STORAGE, `stored CA ${type} is not an X.509 CA`);
    return new TlsCa(type, { certPem: rec.certPem, keyPem: rec.keyPem });
  };
  const jwt = loaded.get('jwt');
  if (jwt?.kind !== 'jwt') throw new GatehouseError(ErrorCode.STORAGE, 'stored authority jwt is not a JWT signing key');
  return {
    jwt: new JwtAuthority(createPrivateKey(jwt.privateKeyPem)),
    sshUser: ssh('ssh_user'),
    sshHost: ssh('ssh_host'),
    tlsUser: tls('tls_user'),
    tlsHost: tls('tls_host'),
    tlsDb: tls('tls_db'),
  };
}
