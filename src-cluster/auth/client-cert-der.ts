// Client certificates (the login's and its device re-issue) built as DER directly and signed with
// node:crypto, instead of through @peculiar/x509's builder.
//
// Why a hand-written encoder: issuing one client certificate through @peculiar/x509 cost ~6 ms of
// CPU (WebCrypto key import, an ASN.1 object model built and serialized, the signature converted),
// and every trusted login issues two on the auth server's event loop, the device re-issue while
// the client quotes: the answer to the device challenge waited behind it (BENCHMARKS.md, "Issue
// 16: device authentication (second pass)"). The certificate has one fixed shape, so its DER is a
// few dozen bytes of fixed structure around the variable fields; the ECDSA signature itself is
// ~0.1 ms. Only DER's definite-length TLV encoding, OIDs, positive INTEGERs and the two time types
// are needed: nothing is parsed here.
//
// The bytes are the ones @peculiar/x509 produced for the same inputs (client-cert-der.test.ts
// compares the to-be-signed part byte for byte), so peers see no change: PrintableString where the
// text allows it, UTF8String otherwise; all roles as one multi-valued O RDN in the given order
// (not sorted, as before, so the roles read back in the order issued); UTCTime through 2049, then
// GeneralizedTime; extensions in the order BasicConstraints, KeyUsage, ExtendedKeyUsage, logins,
// device fields, route fields, AuthorityKeyIdentifier. What comes from the CA (its subject as the
// issuer, its key identifier) is copied from the CA certificate's own DER.
import { randomBytes, sign, type KeyObject } from 'node:crypto';

/** Longest value this encoder takes (bytes): far above any name, login list or device field. */
export const MAX_DER_VALUE_BYTES = 64 * 1024;

/** One DER TLV with a definite length (short form below 128 bytes, long form above). */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = content.length === 1 ? content[0]! : Buffer.concat(content);
  if (body.length > MAX_DER_VALUE_BYTES) throw new RangeError(`DER value of ${body.length} bytes is too long`);
  let header: Buffer;
  if (body.length < 0x80) header = Buffer.from([tag, body.length]);
  else if (body.length < 0x100) header = Buffer.from([tag, 0x81, body.length]);
  else header = Buffer.from([tag, 0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([header, body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const OID = 0x06;
const UTF8_STRING = 0x0c;
const PRINTABLE_STRING = 0x13;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
const BOOLEAN_TRUE = Buffer.from([0x01, 0x01, 0xff]);

/** An OBJECT IDENTIFIER in dotted form, base-128 arcs after the first two. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`not an OID: ${dotted}`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n) throw new RangeError(`not an OID: ${dotted}`);
  const bytes: number[] = [];
  for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const groups = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) groups.unshift(Number(rest & 0x7fn) | 0x80);
    bytes.push(...groups);
  }
  return tlv(OID, Buffer.from(bytes));
}

/** A positive INTEGER from big-endian bytes: leading zeros dropped, one added before a high bit. */
export function positiveInteger(bytes: Buffer): Buffer {
  let first = 0;
  while (first < bytes.length - 1 && bytes[first] === 0) first++;
  const trimmed = bytes.length === 0 ? Buffer.from([0]) : bytes.subarray(first);
  return tlv(INTEGER, trimmed[0]! > 0x7f ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** Validity times: whole seconds, UTCTime (YYMMDDHHMMSSZ) through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function time(date: Date): Buffer {
  const iso = new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new RangeError(`certificate time out of range: ${iso}`);
  return year > 2049 ? tlv(GENERALIZED_TIME, Buffer.from(digits)) : tlv(UTC_TIME, Buffer.from(digits.slice(2)));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** A directory string: PrintableString when every character allows it, else UTF8String. */
function directoryString(text: string): Buffer {
  return PRINTABLE.test(text)
    ? tlv(PRINTABLE_STRING, Buffer.from(text, 'latin1'))
    : tlv(UTF8_STRING, Buffer.from(text));
}

const OID_CN = oid('2.5.4.3');
const OID_O = oid('2.5.4.10');

/** Subject: CN = user, then (with any roles) one RDN holding every role as an O value, in order. */
export function clientSubject(user: string, roles: readonly string[]): Buffer {
  const rdns = [tlv(SET, tlv(SEQUENCE, OID_CN, directoryString(user)))];
  if (roles.length > 0) rdns.push(tlv(SET, ...roles.map((r) => tlv(SEQUENCE, OID_O, directoryString(r)))));
  return tlv(SEQUENCE, ...rdns);
}

/** One extension: id, critical only when set, the value's DER inside an OCTET STRING. */
export function extension(id: string, value: Buffer, critical = false): Buffer {
  return tlv(SEQUENCE, oid(id), ...(critical ? [BOOLEAN_TRUE] : []), tlv(OCTET_STRING, value));
}

// The fixed extensions of every client certificate, encoded once.
const BASIC_CONSTRAINTS_END_ENTITY = extension('2.5.29.19', tlv(SEQUENCE), true);
const KEY_USAGE_DIGITAL_SIGNATURE = extension('2.5.29.15', tlv(BIT_STRING, Buffer.from([0x07, 0x80])), true);
const EXTENDED_KEY_USAGE_CLIENT_AUTH = extension('2.5.29.37', tlv(SEQUENCE, oid('1.3.6.1.5.5.7.3.2')));
const ECDSA_WITH_SHA256 = tlv(SEQUENCE, oid('1.2.840.10045.4.3.2'));
const VERSION_3 = tlv(0xa0, tlv(INTEGER, Buffer.from([2])));

/** What a client certificate's issuer contributes: the CA's own DER pieces and its signing key. */
export interface DerIssuer {
  /** The CA certificate's subject Name, DER as it appears in the CA certificate. */
  subjectDer: Buffer;
  /** The whole AuthorityKeyIdentifier extension (SEQUENCE) naming the CA's key. */
  authorityKeyIdExtension: Buffer;
  /** ECDSA P-256 private key of the CA. */
  signingKey: KeyObject;
}

export interface DerClientCert {
  subject: Buffer;
  /** SubjectPublicKeyInfo DER of the certified key. */
  spki: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** Private extensions (whole Extension DER each), placed after ExtendedKeyUsage. */
  extensions: Buffer[];
  /** 16 random bytes unless given (tests pin it to compare with another encoder). */
  serial?: Buffer;
}

/** The TBSCertificate: everything the CA signs. */
export function clientTbs(issuer: DerIssuer, cert: DerClientCert): Buffer {
  return tlv(
    SEQUENCE,
    VERSION_3,
    positiveInteger(cert.serial ?? randomBytes(16)),
    ECDSA_WITH_SHA256,
    issuer.subjectDer,
    tlv(SEQUENCE, time(cert.notBefore), time(cert.notAfter)),
    cert.subject,
    cert.spki,
    tlv(
      0xa3,
      tlv(
        SEQUENCE,
        BASIC_CONSTRAINTS_END_ENTITY,
        KEY_USAGE_DIGITAL_SIGNATURE,
        EXTENDED_KEY_USAGE_CLIENT_AUTH,
        ...cert.extensions,
        issuer.authorityKeyIdExtension,
      ),
    ),
  );
}

/** The signed certificate as DER: TBS, algorithm, ECDSA-Sig-Value (DER) in a BIT STRING. */
export function signClientCert(issuer: DerIssuer, cert: DerClientCert): Buffer {
  const tbs = clientTbs(issuer, cert);
  const signature = sign('sha256', tbs, { key: issuer.signingKey, dsaEncoding: 'der' });
  return tlv(SEQUENCE, tbs, ECDSA_WITH_SHA256, tlv(BIT_STRING, Buffer.from([0]), signature));
}

/** PEM as @peculiar/x509 wrote it: 64-character lines, no newline after the END line. */
export function certificatePem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----`;
}
