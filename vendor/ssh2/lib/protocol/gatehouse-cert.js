'use strict';
// Gatehouse addition (see ../../VENDOR.md): OpenSSH certificate support for client and server.
const CERT_SUFFIX = '-cert-v01@openssh.com';

function readStr(buf, pos) {
  if (pos + 4 > buf.length) return undefined;
  const len = buf.readUInt32BE(pos);
  if (pos + 4 + len > buf.length) return undefined;
  return buf.subarray(pos + 4, pos + 4 + len);
}

// A cert blob from a Buffer blob, a "*-cert.pub" line (string or Buffer), or undefined.
function toCertBlob(cert) {
  if (cert === undefined || cert === null) return undefined;
  if (Buffer.isBuffer(cert) && cert.length > 0 && cert[0] !== 0) cert = cert.toString('utf8');
  if (typeof cert === 'string') {
    const m = /^\s*(\S+-cert-v01@openssh\.com)\s+([A-Za-z0-9+/]+={0,2})(?:\s|$)/.exec(cert);
    if (!m) throw new Error('certificate must be a certificate blob or an OpenSSH "...-cert-v01@openssh.com AAAA..." line');
    cert = Buffer.from(m[2], 'base64');
  }
  if (!Buffer.isBuffer(cert)) throw new Error('certificate must be a Buffer or a string');
  return cert;
}

// Throws unless certBlob certifies exactly the public half of parsedKey.
function checkCertForKey(certBlob, parsedKey) {
  const expected = parsedKey.type + CERT_SUFFIX;
  const type = readStr(certBlob, 0);
  if (!type || type.toString('latin1') !== expected)
    throw new Error('certificate type is ' + (type ? type.toString('latin1') : '(unreadable)') + ', expected ' + expected);
  const nonce = readStr(certBlob, 4 + type.length);
  const pub = parsedKey.getPublicSSH();
  const keyFields = pub.subarray(4 + pub.readUInt32BE(0));
  const at = 4 + type.length + 4 + (nonce ? nonce.length : 0);
  if (!nonce || !certBlob.subarray(at, at + keyFields.length).equals(keyFields))
    throw new Error('certificate does not belong to this private key');
}

// The host key as the server kex sees it: signs with the plain key, presents the cert as K_S.
function certHostKey(parsedKey, certBlob) {
  return Object.create(parsedKey, { getPublicSSH: { value: () => certBlob } });
}

module.exports = { CERT_SUFFIX, toCertBlob, checkCertForKey, certHostKey };
