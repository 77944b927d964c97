// The SSH algorithms and version string Gatehouse speaks, chosen on purpose and in one place so
// the node (src-cluster/node) and the clients (`gate`, the desktop app: src-main/gateways/ssh)
// cannot drift apart (issue 18). ssh2's own defaults offer compression, SHA-1 and
// encrypt-and-MAC HMACs, NIST-curve and finite-field kex, and announce "SSH-2.0-ssh2js<version>":
// everything an audit flags. The sets follow Teleport's and OpenSSH's current defaults.
import { ErrorCode, GatehouseError } from './errors.ts';

/**
 * The software part of the version string: "SSH-2.0-Gatehouse" on the wire (RFC 4253 §4.2). No
 * library name and no version, so a scan learns nothing about which CVEs to try.
 */
export const SSH_IDENT = 'Gatehouse';
export const SSH_BANNER = `SSH-2.0-${SSH_IDENT}`;

/** Key exchange: X25519 only by default (no NIST curve whose constants a reviewer has to trust). */
export const DEFAULT_KEX = ['curve25519-sha256', 'curve25519-sha256@libssh.org'] as const;
/** For FIPS-minded sites (`ssh.fips: true`): the NIST curves FIPS 140 approves. Off by default. */
export const FIPS_KEX = ['ecdh-sha2-nistp256', 'ecdh-sha2-nistp384'] as const;

/**
 * AEAD ciphers only. aes128-gcm stays FIRST: with AES-NI it is the fastest of the three, and the
 * SSH throughput bench and issue 16's stream goal (≥ 0.9× direct) are measured with it;
 * chacha20-poly1305 is for peers without AES hardware, which pick it from their own order.
 */
export const DEFAULT_CIPHERS = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'chacha20-poly1305@openssh.com',
] as const;
/** CTR modes (with an ETM MAC) only when an old client needs them: listed in `ssh.ciphers`. */
export const COMPAT_CIPHERS = ['aes128-ctr', 'aes192-ctr', 'aes256-ctr'] as const;
/** FIPS mode drops chacha20-poly1305 (not a FIPS algorithm). */
export const FIPS_CIPHERS = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com'] as const;

/** Encrypt-then-MAC SHA-2 only (used with CTR; the AEAD ciphers carry their own tag). */
export const DEFAULT_MACS = ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com'] as const;

/** No compression: it buys little on interactive traffic and is a side channel (CRIME-style). */
export const COMPRESSION = ['none'] as const;

/**
 * What a client accepts from a node: only an ed25519 host certificate from the cluster's host CA
 * (nodes get ed25519 keys at join, join-client.ts; the node offers its key's algorithm and that
 * algorithm's certificate, so no host-key list is needed on the server side).
 */
export const CLIENT_HOST_KEYS = ['ssh-ed25519-cert-v01@openssh.com'] as const;

/** Every name a setting may list, per setting: the defaults plus the opt-in extras above. */
export const ALLOWED_KEX: readonly string[] = [...DEFAULT_KEX, ...FIPS_KEX];
export const ALLOWED_CIPHERS: readonly string[] = [...DEFAULT_CIPHERS, ...COMPAT_CIPHERS];
export const ALLOWED_MACS: readonly string[] = [...DEFAULT_MACS];

/** The daemon's `ssh:` settings; each list replaces the default set, in the order given. */
export interface SshAlgorithmSettings {
  kexAlgorithms?: readonly string[];
  ciphers?: readonly string[];
  macs?: readonly string[];
  /** NIST kex and AES-GCM only, when no list is given. */
  fips?: boolean;
}

/** The lists an ssh2 Server or Client takes as its `algorithms` option. */
export interface SshAlgorithmLists {
  kex: string[];
  cipher: string[];
  hmac: string[];
  compress: string[];
}

export type SshAlgorithmSetting = 'kex_algorithms' | 'ciphers' | 'macs';

const ALLOWED_BY_SETTING: Record<SshAlgorithmSetting, readonly string[]> = {
  kex_algorithms: ALLOWED_KEX,
  ciphers: ALLOWED_CIPHERS,
  macs: ALLOWED_MACS,
};

/** Why `names` is not a usable `ssh.<setting>` list (naming each unknown algorithm and the allowed ones), or undefined. */
export function sshAlgorithmListProblem(setting: SshAlgorithmSetting, names: readonly string[]): string | undefined {
  if (names.length === 0) return 'the list is empty; leave it out for the defaults';
  const allowed = ALLOWED_BY_SETTING[setting];
  const unknown = names.filter((n) => !allowed.includes(n));
  if (unknown.length > 0) {
    const quoted = unknown.map((n) => `"${n}"`).join(', ');
    return `unknown or refused algorithm ${quoted}; allowed: ${allowed.join(', ')}`;
  }
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) return `"${duplicate}" is listed twice`;
  return undefined;
}

/** The node's offer: the settings' lists (checked again here: a caller may skip the schema) or the defaults. */
export function serverAlgorithms(settings: SshAlgorithmSettings = {}): SshAlgorithmLists {
  const pick = (setting: SshAlgorithmSetting, given: readonly string[] | undefined, fallback: readonly string[]) => {
    if (given === undefined) return [...fallback];
    const problem = sshAlgorithmListProblem(setting, given);
    if (problem) throw new GatehouseError(ErrorCode.CONFIG, `ssh.${setting}: ${problem}`);
    return [...given];
  };
  return {
    kex: pick('kex_algorithms', settings.kexAlgorithms, settings.fips ? FIPS_KEX : DEFAULT_KEX),
    cipher: pick('ciphers', settings.ciphers, settings.fips ? FIPS_CIPHERS : DEFAULT_CIPHERS),
    hmac: pick('macs', settings.macs, DEFAULT_MACS),
    compress: [...COMPRESSION],
  };
}

/**
 * The client's offer. X25519 first, then the FIPS curves so a node in FIPS mode is still
 * reachable (the server's list decides nothing: RFC 4253 §7.1 picks the client's first choice
 * the server also has, so a default node always gets curve25519). Ciphers and MACs are the
 * defaults: every node offers at least AES-GCM, which the FIPS set keeps.
 */
export function clientAlgorithms(): SshAlgorithmLists & { serverHostKey: string[] } {
  return {
    kex: [...DEFAULT_KEX, ...FIPS_KEX],
    cipher: [...DEFAULT_CIPHERS],
    hmac: [...DEFAULT_MACS],
    compress: [...COMPRESSION],
    serverHostKey: [...CLIENT_HOST_KEYS],
  };
}
