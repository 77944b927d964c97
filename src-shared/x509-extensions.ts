// The extensions of an X.509 certificate, read from its DER with a small bounded TLV walker.
//
// Why not @peculiar/x509: node:crypto parses certificates natively but exposes no private
// extensions, and building @peculiar/x509's object model for one certificate costs ~2-3 ms of
// CPU; the client reads the device fields of the re-issued certificate on the trusted login's
// critical path (src-main/core/device-fields.ts). Callers pass DER that node:crypto has already
// parsed as a certificate; this walk still checks every length against its enclosing element
// and refuses anything that does not have the shape RFC 5280 gives (Certificate ->
// TBSCertificate -> [3] Extensions -> Extension { OID, BOOLEAN?, OCTET STRING }).

interface Element {
  tag: number;
  /** Offset of the value's first byte in the buffer. */
  start: number;
  /** Offset one past the value's last byte. */
  end: number;
}

function malformed(what: string): Error {
  return new Error(`not a DER certificate: ${what}`);
}

/** The element starting at `at`, which must end by `limit` (definite lengths of up to 4 bytes). */
function readElement(der: Buffer, at: number, limit: number): Element {
  if (at + 2 > limit) throw malformed('truncated element');
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) throw malformed('multi-byte tag');
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) throw malformed('bad length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i]!;
    start += octets;
  }
  if (start + length > limit) throw malformed('element longer than its container');
  return { tag, start, end: start + length };
}

/** The children of a constructed element. */
function children(der: Buffer, parent: Element): Element[] {
  const out: Element[] = [];
  for (let at = parent.start; at < parent.end;) {
    const child = readElement(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** Dotted text of an OBJECT IDENTIFIER's value bytes. */
function oidText(bytes: Buffer): string {
  const arcs: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw malformed('OID arc too large');
    if (!(b & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  if (arcs.length === 0 || bytes[bytes.length - 1]! & 0x80) throw malformed('bad OID');
  const first = arcs[0]!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

export interface X509Extension {
  critical: boolean;
  /** The extension's value: the contents of its OCTET STRING. */
  value: Buffer;
}

/** Every extension of the certificate by OID (a certificate lists each at most once, RFC 5280 4.2). */
export function readX509Extensions(der: Buffer): Map<string, X509Extension> {
  const cert = readElement(der, 0, der.length);
  if (cert.tag !== 0x30 || cert.end !== der.length) throw malformed('no Certificate SEQUENCE');
  const tbs = children(der, cert)[0];
  if (tbs?.tag !== 0x30) throw malformed('no TBSCertificate');
  const wrapper = children(der, tbs).find((e) => e.tag === 0xa3);
  const out = new Map<string, X509Extension>();
  if (!wrapper) return out;
  const list = children(der, wrapper);
  if (list.length !== 1 || list[0]!.tag !== 0x30) throw malformed('bad Extensions');
  for (const ext of children(der, list[0]!)) {
    const parts = ext.tag === 0x30 ? children(der, ext) : [];
    const [id, second, third] = parts;
    const critical = parts.length === 3 && second!.tag === 0x01;
    const value = parts.length === 3 ? third : second;
    if (id?.tag !== 0x06 || value?.tag !== 0x04 || parts.length > 3 || (parts.length === 3 && !critical)) {
      throw malformed('bad Extension');
    }
    const oid = oidText(der.subarray(id.start, id.end));
    if (out.has(oid)) throw malformed(`extension ${oid} listed twice`);
    out.set(oid, {
      critical: critical && der[second!.start] !== 0,
      value: der.subarray(value.start, value.end),
    });
  }
  return out;
}
