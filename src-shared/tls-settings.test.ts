import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import * as tls from 'node:tls';
import { makeCa, makeLeaf, type TestCert } from '../test-support/test-pki.ts';
import { TlsContextCache } from './tls-contexts.ts';
import { TLS_CLIENT_SETTINGS, TLS_SERVER_SETTINGS, TLS12_CIPHERS, TLS13_CIPHERSUITES } from './tls-settings.ts';

const repo = join(import.meta.dirname, '..');

test('TLS 1.2 suites are ECDHE with AES-GCM or ChaCha20-Poly1305 only; TLS 1.3 keeps its suites', () => {
  for (const suite of TLS12_CIPHERS) {
    assert.match(suite, /^ECDHE-(ECDSA|RSA)-(AES(128-GCM-SHA256|256-GCM-SHA384)|CHACHA20-POLY1305)$/, suite);
  }
  assert.ok(TLS12_CIPHERS[0]!.includes('AES128-GCM'), 'AES-GCM first: AES-NI makes it the fastest');
  const offered = TLS_CLIENT_SETTINGS.ciphers.split(':');
  for (const suite of TLS13_CIPHERSUITES)
    assert.ok(offered.includes(suite), `${suite} must stay: without it TLS 1.3 is off`);
  assert.equal(TLS_SERVER_SETTINGS.minVersion, 'TLSv1.2');
  assert.equal(TLS_SERVER_SETTINGS.ecdhCurve, 'X25519:P-256:P-384');
  // Every name is one this OpenSSL knows: an unknown one would make createSecureContext throw.
  assert.doesNotThrow(() => tls.createSecureContext(TLS_SERVER_SETTINGS));
});

/** Listens with the server settings (as every Gatehouse listener does) on 127.0.0.1. */
async function listen(leaf: TestCert, extra: tls.TlsOptions = {}): Promise<{ port: number; close: () => void }> {
  const server = tls.createServer({ cert: leaf.certPem, key: leaf.keyPem, ...TLS_SERVER_SETTINGS, ...extra }, (s) =>
    s.end(),
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/** The negotiated version and suite, or the handshake error's message. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      resolve(`${s.getProtocol()} ${s.getCipher().standardName}`);
      s.destroy();
    });
    s.on('error', (e) => resolve(`refused: ${e.message}`));
  });
}

test('a listener with the server settings refuses TLS 1.1, CBC and CCM suites, and agrees GCM or TLS 1.3', async () => {
  const ca = await makeCa('tls-settings');
  const leaf = await makeLeaf(ca, { cn: 'listener', ips: ['127.0.0.1'] });
  const server = await listen(leaf);
  try {
    assert.match(
      await handshake(server.port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
      /^refused/,
    );
    for (const cbc of [
      'ECDHE-ECDSA-AES128-SHA',
      'ECDHE-ECDSA-AES256-SHA384',
      'ECDHE-ECDSA-AES128-CCM',
      'ECDHE-ECDSA-ARIA128-GCM-SHA256',
    ]) {
      assert.match(await handshake(server.port, { maxVersion: 'TLSv1.2', ciphers: cbc }), /^refused/, cbc);
    }
    assert.equal(
      await handshake(server.port, { maxVersion: 'TLSv1.2' }),
      'TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    );
    assert.match(await handshake(server.port, {}), /^TLSv1\.3 TLS_AES_/);
  } finally {
    server.close();
  }
});

test('a cached client context carries the settings: it will not agree a CBC suite a server offers', async () => {
  const ca = await makeCa('tls-settings-client');
  const leaf = await makeLeaf(ca, { cn: 'old', ips: ['127.0.0.1'] });
  // A server that offers only a CBC suite in TLS 1.2 (what an old database might do).
  const old = await listen(leaf, { ciphers: 'ECDHE-ECDSA-AES128-SHA', maxVersion: 'TLSv1.2', honorCipherOrder: true });
  try {
    const secureContext = new TlsContextCache().get({ ca: [ca.certPem] });
    assert.match(await handshake(old.port, { secureContext }), /^refused/);
    assert.match(await handshake(old.port, { ...TLS_CLIENT_SETTINGS }), /^refused/);
  } finally {
    old.close();
  }
});

// Every production file that builds a TLS context (a listener, a connection, a transport) and where
// its settings come from. A new call site fails here until it uses the shared settings.
const TLS_CALL =
  /tls\.createServer\(|createSecureServer\(|createSecureContext\(|setSecureContext\(|tls\.connect\(|http2\.connect\(|https\.(get|request)\(|new https\.Agent\(|createConnectTransport\(|new Http2SessionManager\(|parseIntoClientConfig\(/;
const SETTINGS_FROM_ELSEWHERE: Record<string, string> = {
  'src-cluster/db/engine-relay.ts':
    'upgrades with the options upstream-tls.ts builds (TLS_CLIENT_SETTINGS and a cached context)',
  'src-main/core/cluster-client.ts': "takes proxy-trust.ts's strictTlsOptions, which spread TLS_CLIENT_SETTINGS",
  'src-main/gateways/proxy-tunnel.ts': 'strictTlsOptions or a TlsContextCache context, both with TLS_CLIENT_SETTINGS',
  'src-shared/tls-contexts.ts': 'spreads TLS_CLIENT_SETTINGS into every context it builds',
};

function productionFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!['integration', 'security', 'test-support', 'testdata', 'gen', 'node_modules'].includes(name))
        productionFiles(p, out);
    } else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) out.push(relative(repo, p));
  }
  return out;
}

test('every production TLS call site uses the shared settings', () => {
  const sites = ['src-cluster', 'src-main', 'src-shared']
    .flatMap((d) => productionFiles(join(repo, d)))
    .filter((f) => TLS_CALL.test(readFileSync(join(repo, f), 'utf8')));
  assert.ok(sites.length >= 15, `found only ${sites.length} TLS call sites; did the scan break?`);
  const unsettled = sites.filter(
    // Spread into the options, not merely imported.
    (f) =>
      !/\.\.\.TLS_(SERVER|CLIENT)_SETTINGS\b/.test(readFileSync(join(repo, f), 'utf8')) &&
      !(f in SETTINGS_FROM_ELSEWHERE),
  );
  assert.deepEqual(unsettled, [], 'these files open TLS without src-shared/tls-settings.ts');
  for (const f of Object.keys(SETTINGS_FROM_ELSEWHERE))
    assert.ok(sites.includes(f), `${f} no longer opens TLS: drop it from the list`);
});
