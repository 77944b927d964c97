// The end user behind a joined proxy. The proxy forwards each API call to auth over its own
// mTLS connection and names the caller in headers (proxy/api-forwarder.ts): the client
// certificate it verified (DER, base64), or why it refused one, and the source address. Auth
// believes them ONLY when the direct peer is a host certificate with role proxy; from anyone
// else they are ignored, so a client cannot claim another user's certificate or address. The
// forwarded certificate is classified again here against auth's own CAs, never taken on trust.
import type { IncomingHttpHeaders } from 'node:http2';

export const FORWARDED_CERT_HEADER = 'gatehouse-forwarded-cert';
export const FORWARDED_CERT_ERROR_HEADER = 'gatehouse-forwarded-cert-error';
export const FORWARDED_FOR_HEADER = 'gatehouse-forwarded-for';
export const FORWARDED_HEADERS: readonly string[] = [
  FORWARDED_CERT_HEADER,
  FORWARDED_CERT_ERROR_HEADER,
  FORWARDED_FOR_HEADER,
];

/** The part of peer.ts's Peer this file reads and writes (kept structural: peer.ts imports this file). */
interface PeerLike {
  address: string;
  host?: { role: string };
  refusal?: string;
}

/** Longest base64 certificate accepted in the header (the API's certificate field limit is 16 KiB). */
const MAX_FORWARDED_CERT_CHARS = 24 << 10;
const MAX_FORWARDED_TEXT_CHARS = 256;
/** Recently classified forwarded certificates: a user's calls repeat the same one. */
const MAX_CACHED = 256;
const classifiedForwarded = new Map<string, object>();

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The peer a call is about: the forwarded end user when a proxy relays it, else the direct peer. */
export function forwardedPeer<P extends PeerLike>(
  direct: P,
  headers: IncomingHttpHeaders | undefined,
  classify: (der: Buffer) => Omit<P, 'address'>,
): P {
  if (direct.host?.role !== 'proxy' || !headers) return direct;
  const forwardedFor = single(headers[FORWARDED_FOR_HEADER]);
  // A proxy's own calls (none today) carry no forwarding headers and stay the proxy's.
  if (forwardedFor === undefined) return direct;
  const peer = { address: forwardedFor.slice(0, MAX_FORWARDED_TEXT_CHARS) } as P;
  const certB64 = single(headers[FORWARDED_CERT_HEADER]);
  const certError = single(headers[FORWARDED_CERT_ERROR_HEADER]);
  if (certB64 !== undefined) {
    if (certB64.length > MAX_FORWARDED_CERT_CHARS) {
      peer.refusal = 'the forwarded client certificate is too large';
      return peer;
    }
    let found = classifiedForwarded.get(certB64);
    if (!found) {
      try {
        found = classify(Buffer.from(certB64, 'base64'));
      } catch {
        found = { refusal: 'the forwarded client certificate is not a valid certificate' };
      }
      if (classifiedForwarded.size >= MAX_CACHED) classifiedForwarded.delete(classifiedForwarded.keys().next().value!);
      classifiedForwarded.set(certB64, found);
    }
    Object.assign(peer, found);
  } else if (certError !== undefined) {
    peer.refusal = certError.slice(0, MAX_FORWARDED_TEXT_CHARS);
  }
  return peer;
}
