// The client's key pair. One ECDSA P-256 key backs both the SSH user certificate and the X.509
// client certificate, so a login produces exactly one private key and the cluster signs its
// public half twice. The private key never leaves this machine.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { formatAuthorizedKey, publicKeyToWire, fingerprintSha256 } from '../../src-shared/sshcert/index.ts';

export interface ClientKey {
  privateKey: KeyObject;
  /** SEC1 PEM ("BEGIN EC PRIVATE KEY"): Node TLS, ssh2 and OpenSSH's `ssh -i` all read it. */
  privateKeyPem: string;
  /** OpenSSH authorized_keys line, what Login sends to the cluster. */
  publicKeyLine: string;
  /** SSH wire-format public key blob. */
  publicKeyBlob: Buffer;
  /** "SHA256:..." as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

export function generateClientKey(comment = 'gatehouse'): ClientKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return describeKey(privateKey, comment);
}

/** Loads a stored key; anything but a P-256 private key is refused as not ours. */
export function loadClientKey(pem: string, comment = 'gatehouse'): ClientKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new GatehouseError(ErrorCode.CERT_INVALID, `the stored private key cannot be read: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new GatehouseError(ErrorCode.CERT_INVALID, 'the stored private key is not an ECDSA P-256 key');
  }
  return describeKey(key, comment);
}

function describeKey(privateKey: KeyObject, comment: string): ClientKey {
  const publicKeyBlob = publicKeyToWire(privateKey);
  return {
    privateKey,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'sec1' }) as string,
    publicKeyLine: formatAuthorizedKey(publicKeyBlob, comment),
    publicKeyBlob,
    fingerprint: fingerprintSha256(publicKeyBlob),
  };
}
