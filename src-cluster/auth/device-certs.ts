// Device-aware certificates: after a device proves itself, the user's current SSH and X.509
// certificates are issued again, byte for byte the same identity, key and expiry, plus the
// device fields (src-shared/cert-fields.ts). Nothing in the new certificates comes from the
// client's words: every field is read from certificates this cluster signed and checked here.
import type { KeyObject } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import {
  hasAnyDeviceField,
  SSH_DEVICE_EXTENSIONS,
  SSH_EXT_DEVICE_ASSET_TAG,
  SSH_EXT_DEVICE_CREDENTIAL_ID,
  SSH_EXT_DEVICE_ID,
  type DeviceFields,
} from '../../src-shared/cert-fields.ts';
import {
  formatCertificateLine,
  parseCertificateLine,
  signCertificate,
  verifyCertificate,
  wireToPublicKey,
  type SshCertificate,
} from '../../src-shared/sshcert/index.ts';
import type { CertAuthorities } from './authorities.ts';
import { clientCertContents, issueClientCert, type ClientCertContents } from './x509.ts';

export interface PresentedCerts {
  sshCertificate: string;
  tlsCertificatePem: string;
}

export interface CheckedCerts {
  ssh: SshCertificate;
  tls: ClientCertContents;
}

function refuse(message: string, reason: string): GatehouseError {
  return new GatehouseError(ErrorCode.CERT_INVALID, message, { reason });
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ format: 'der', type: 'spki' }).equals(b.export({ format: 'der', type: 'spki' }));
}

/**
 * Checks the certificates a client presents for device authentication: both signed by this
 * cluster's user CAs and valid now, the TLS one the very certificate of this connection, both
 * for the same user and the same key, and neither already device-trusted. `issued`: what this
 * process signed into the TLS certificate moments ago (a login's device challenge), used
 * instead of parsing it again; never from a client.
 */
export function checkPresentedCerts(
  cas: CertAuthorities,
  presented: PresentedCerts,
  connection: { user: string; certDer: Buffer },
  now: Date = new Date(),
  issued?: ClientCertContents,
): CheckedCerts {
  let tlsDer: Buffer;
  try {
    tlsDer = new X509Certificate(presented.tlsCertificatePem).raw;
  } catch (e) {
    throw refuse(`the TLS certificate is not a valid X.509 certificate: ${(e as Error).message}`, 'malformed');
  }
  if (!tlsDer.equals(connection.certDer)) {
    throw refuse('the TLS certificate sent is not the one this connection was made with', 'not_connection_cert');
  }
  const tls = issued ?? clientCertContents(tlsDer);
  let parsed: SshCertificate;
  try {
    parsed = parseCertificateLine(presented.sshCertificate);
  } catch (e) {
    throw refuse(`the SSH certificate is malformed: ${(e as Error).message}`, 'malformed');
  }
  const verified = verifyCertificate(parsed, {
    trustedCAs: [cas.sshUser.publicBlob],
    type: 'user',
    now,
    allowedCriticalOptions: Object.keys(parsed.criticalOptions),
  });
  if (!verified.ok) throw refuse(`the SSH certificate is not valid: ${verified.reason}`, verified.failure);
  const ssh = verified.cert;
  if (ssh.keyId !== connection.user || tls.user !== connection.user) {
    throw refuse(
      `the certificates belong to "${ssh.keyId}"/"${tls.user}", not to the caller "${connection.user}"`,
      'other_user',
    );
  }
  if (!sameKey(wireToPublicKey(ssh.publicKey), tls.publicKey)) {
    throw refuse('the SSH and TLS certificates certify different keys', 'key_mismatch');
  }
  if (tls.anyDeviceField || hasAnyDeviceField(SSH_DEVICE_EXTENSIONS, (name) => ssh.extensions[name])) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      'these certificates already carry device fields: device authentication runs once per login ("gate login" again for a fresh session)',
      { reason: 'already_device_trusted' },
    );
  }
  return { ssh, tls };
}

/** Issues both certificates again with the same key, identity and expiry, plus the device fields. */
export async function reissueWithDevice(
  cas: CertAuthorities,
  certs: CheckedCerts,
  device: DeviceFields,
): Promise<{ sshCertificate: string; tlsCertificate: string }> {
  const { ssh, tls } = certs;
  const blob = signCertificate({
    publicKey: ssh.publicKey,
    type: 'user',
    keyId: ssh.keyId,
    principals: ssh.principals,
    validAfter: ssh.validAfter,
    validBefore: ssh.validBefore,
    criticalOptions: ssh.criticalOptions,
    extensions: {
      ...ssh.extensions,
      [SSH_EXT_DEVICE_ID]: device.deviceId,
      [SSH_EXT_DEVICE_ASSET_TAG]: device.assetTag,
      [SSH_EXT_DEVICE_CREDENTIAL_ID]: device.credentialId,
    },
    caPrivateKey: cas.sshUser.privateKey,
  });
  const tlsCertificate = await issueClientCert({
    ca: cas.tlsUser.material,
    publicKey: tls.publicKey,
    notBefore: tls.notBefore,
    notAfter: tls.notAfter,
    user: tls.user,
    roles: tls.roles,
    logins: tls.logins,
    device,
  });
  return { sshCertificate: formatCertificateLine(blob, ssh.keyId), tlsCertificate };
}
