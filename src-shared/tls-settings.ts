// The TLS versions, cipher suites and key-exchange groups of every Gatehouse TLS context: the
// listeners (proxy, auth API, db and app services) and the outbound connections (proxy → services,
// services → databases and apps, clients → proxy and auth). One place, so an audit tool finds the
// same answer on every port (issue 18). Node's default list for TLS 1.2 still carries CBC suites
// (ECDHE-*-AES*-SHA/-SHA256/-SHA384, the LUCKY13 family) and OpenSSL adds CCM and ARIA ones: a
// scan flags them, and no client Gatehouse serves needs them.
import type * as tls from 'node:tls';

export const TLS_MIN_VERSION: tls.SecureVersion = 'TLSv1.2';

/** TLS 1.2: forward-secret ECDHE key exchange with AEAD ciphers only; AES-GCM first (AES-NI). */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

/**
 * TLS 1.3: OpenSSL's default suites, named because Node reads the TLS 1.3 suites from the same
 * `ciphers` string (names starting "TLS_"), and a string without any would turn TLS 1.3 off.
 */
export const TLS13_CIPHERSUITES = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
] as const;

/** Key-exchange groups, most preferred first. No finite-field DH: the ECDHE suites need none. */
export const TLS_ECDH_CURVES = ['X25519', 'P-256', 'P-384'] as const;

/** What every outbound TLS connection (tls.connect, http2.connect, connect transports) passes. */
export interface TlsSettings {
  minVersion: tls.SecureVersion;
  ciphers: string;
  ecdhCurve: string;
}

export const TLS_CLIENT_SETTINGS: Readonly<TlsSettings> = Object.freeze({
  minVersion: TLS_MIN_VERSION,
  ciphers: [...TLS13_CIPHERSUITES, ...TLS12_CIPHERS].join(':'),
  ecdhCurve: TLS_ECDH_CURVES.join(':'),
});

/** Listeners and their replacement contexts; the server's order decides, so AES-GCM wins where both can. */
export const TLS_SERVER_SETTINGS: Readonly<TlsSettings & { honorCipherOrder: boolean }> = Object.freeze({
  ...TLS_CLIENT_SETTINGS,
  honorCipherOrder: true,
});
