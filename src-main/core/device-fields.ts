// Reading the device fields back out of a login's certificates. What the client tells the user
// ("this session is device-trusted") comes from the certificates nodes will see, never from
// what the server said alongside them; and re-issued certificates are checked to be the same
// login (same key, same expiry) before they replace the stored ones.
import { X509Certificate } from 'node:crypto';
import {
  readDeviceFields,
  SSH_DEVICE_EXTENSIONS,
  X509_DEVICE_OIDS,
  type DeviceFields,
} from '../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { parseCertificateLine } from '../../src-shared/sshcert/index.ts';
import { readX509Extensions } from '../../src-shared/x509-extensions.ts';

function invalid(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.CERT_INVALID, message);
}

/** All three SSH extensions, or undefined (a partial set is not device-trusted). */
export function sshCertDeviceFields(line: string): DeviceFields | undefined {
  const ext = parseCertificateLine(line).extensions;
  return readDeviceFields(SSH_DEVICE_EXTENSIONS, (name) => ext[name]);
}

/** All three X.509 extensions (raw UTF-8 values), or undefined. */
export function tlsCertDeviceFields(cert: string | X509Certificate): DeviceFields | undefined {
  // node:crypto parses the certificate but does not expose custom extensions: they are read
  // from its DER (src-shared/x509-extensions.ts; @peculiar/x509 took ~2-3 ms per certificate).
  const parsed = typeof cert === 'string' ? new X509Certificate(cert) : cert;
  const extensions = readX509Extensions(parsed.raw);
  return readDeviceFields(X509_DEVICE_OIDS, (oid) => extensions.get(oid)?.value.toString('utf8'));
}

export interface ReissueCheck {
  /** The stored login's certificates and key. */
  current: { sshCertificate: string; tlsCertificatePem: string; publicKeyBlob: Buffer };
  reissued: { sshCertificate: string; tlsCertificatePem: string };
  /** The credential the device authenticated with. */
  credentialId: string;
}

/**
 * Checks that re-issued certificates are the current login plus device fields: the SSH one for
 * the same key and expiry, the X.509 one for the same public key and expiry, both carrying the
 * same device fields naming our credential. Returns those fields.
 */
export function checkReissuedCertificates(c: ReissueCheck): DeviceFields {
  let oldSsh, newSsh;
  try {
    oldSsh = parseCertificateLine(c.current.sshCertificate);
    newSsh = parseCertificateLine(c.reissued.sshCertificate);
  } catch (e) {
    throw invalid(`the re-issued SSH certificate cannot be read: ${(e as Error).message}`);
  }
  if (!newSsh.publicKey.equals(c.current.publicKeyBlob)) {
    throw invalid('the re-issued SSH certificate is for another key');
  }
  if (newSsh.validBefore !== oldSsh.validBefore || newSsh.keyId !== oldSsh.keyId) {
    throw invalid('the re-issued SSH certificate is not the same login (expiry or key id differ)');
  }
  // node:crypto's parser (native) for the comparisons: this check is on the login's critical path,
  // and @peculiar/x509 takes several times as long per certificate.
  let oldTls: X509Certificate, newTls: X509Certificate;
  try {
    oldTls = new X509Certificate(c.current.tlsCertificatePem);
    newTls = new X509Certificate(c.reissued.tlsCertificatePem);
  } catch (e) {
    throw invalid(`the re-issued X.509 certificate cannot be read: ${(e as Error).message}`);
  }
  const spki = (cert: X509Certificate) => cert.publicKey.export({ type: 'spki', format: 'der' });
  if (!spki(newTls).equals(spki(oldTls))) {
    throw invalid('the re-issued X.509 certificate is for another key');
  }
  if (newTls.validToDate.getTime() !== oldTls.validToDate.getTime() || newTls.subject !== oldTls.subject) {
    throw invalid('the re-issued X.509 certificate is not the same login (expiry or subject differ)');
  }
  const ssh = readDeviceFields(SSH_DEVICE_EXTENSIONS, (name) => newSsh.extensions[name]);
  let tls: DeviceFields | undefined;
  try {
    tls = tlsCertDeviceFields(newTls);
  } catch (e) {
    throw invalid(`the re-issued X.509 certificate cannot be read: ${(e as Error).message}`);
  }
  if (!ssh || !tls) throw invalid(`the re-issued ${ssh ? 'X.509' : 'SSH'} certificate carries no device fields`);
  if (ssh.deviceId !== tls.deviceId || ssh.assetTag !== tls.assetTag || ssh.credentialId !== tls.credentialId) {
    throw invalid('the re-issued SSH and X.509 certificates name different devices');
  }
  if (ssh.credentialId !== c.credentialId) {
    throw invalid(
      `the re-issued certificates name credential ${ssh.credentialId}, not this device's ${c.credentialId}`,
    );
  }
  return ssh;
}
