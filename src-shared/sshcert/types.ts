// The shape of an OpenSSH certificate (PROTOCOL.certkeys) as Gatehouse uses it.
// Shared by the cluster (issues and verifies) and the client core (reads expiry, principals).

export type SshCertType = 'user' | 'host';

export interface SshCertificate {
  /** e.g. "ecdsa-sha2-nistp256-cert-v01@openssh.com" or "ssh-ed25519-cert-v01@openssh.com" */
  certKeyType: string;
  /** SSH wire-format public key blob of the certified key (e.g. string "ssh-ed25519" + string key). */
  publicKey: Buffer;
  nonce: Buffer;
  serial: bigint;
  type: SshCertType;
  keyId: string;
  principals: string[];
  /** Seconds since the epoch; validBefore 0xffffffffffffffff means "forever". */
  validAfter: bigint;
  validBefore: bigint;
  criticalOptions: Record<string, string>;
  extensions: Record<string, string>;
  /** SSH wire-format public key blob of the signing CA. */
  signatureKey: Buffer;
  /** SSH signature blob (string algorithm, string signature). */
  signature: Buffer;
  /** The whole certificate blob, as it appears base64-encoded in an authorized_keys line. */
  blob: Buffer;
  /** The bytes the CA signed (everything before the signature field). */
  signedData: Buffer;
}

export type CertVerifyFailure =
  | 'not-a-certificate'
  | 'wrong-type'
  | 'untrusted-ca'
  | 'bad-signature'
  | 'not-yet-valid'
  | 'expired'
  | 'principal-not-allowed'
  | 'unsupported-critical-option';

export type CertVerifyResult =
  { ok: true; cert: SshCertificate } | { ok: false; failure: CertVerifyFailure; reason: string };
