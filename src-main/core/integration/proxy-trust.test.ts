// Trust decisions about the proxy, tested against real TLS servers on loopback.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { caFingerprint, KnownProxies, normalizeFingerprint } from '../known-proxies.ts';
import { parseProxyAddress } from '../proxy-address.ts';
import { ProxyTrust, strictTlsOptions } from '../proxy-trust.ts';
import { makeCa, makeLeaf, startTlsServer, type RunningTls, type TestCert } from '../../../test-support/test-pki.ts';

type Ca = Awaited<ReturnType<typeof makeCa>>;
const clock = () => new Date('2030-01-01T00:00:00Z');

/** Resolves when a strict handshake succeeds; rejects with the TLS error otherwise. */
function strictConnect(addr: string, caPem: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(strictTlsOptions(parseProxyAddress(addr), caPem));
    s.once('secureConnect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}

describe('ProxyTrust', () => {
  let caA: Ca;
  let caB: Ca;
  let leafA: TestCert;
  let leafB: TestCert;
  let dir: string;
  before(async () => {
    caA = await makeCa('cluster A host CA');
    caB = await makeCa('cluster B host CA');
    leafA = await makeLeaf(caA, { cn: 'proxy', dns: ['localhost'], ips: ['127.0.0.1'] });
    leafB = await makeLeaf(caB, { cn: 'proxy', dns: ['localhost'], ips: ['127.0.0.1'] });
    dir = mkdtempSync(join(tmpdir(), 'gate-trust-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const fresh = (name: string) => {
    const known = new KnownProxies(join(dir, name));
    return { known, trust: new ProxyTrust(known, clock, { timeoutMs: 5000 }) };
  };

  test('first use pins the CA the proxy presents, but writes it only on confirm()', async () => {
    const srv = await startTlsServer({ leaf: leafA, chain: [caA.certPem] });
    try {
      const { known, trust } = fresh('first-use');
      const proxy = parseProxyAddress(`127.0.0.1:${srv.port}`);
      const d = await trust.establish(proxy, { trustOnFirstUse: true });
      assert.equal(d.newlyPinned, true);
      assert.equal(d.source, 'first-use');
      assert.equal(d.fingerprint, caFingerprint(caA.certPem));
      assert.equal(trust.pinned(proxy).fingerprint, d.fingerprint, 'the pending pin is used for the next calls');
      assert.equal(existsSync(known.path), false, 'nothing is written before the login succeeded');
      trust.confirm(proxy);
      const stored = JSON.parse(readFileSync(known.path, 'utf8'));
      assert.equal(stored.proxies[proxy.address].fingerprint, d.fingerprint);
      // A later run (new ProxyTrust, same file) matches the pin without re-pinning.
      const again = await new ProxyTrust(new KnownProxies(join(dir, 'first-use')), clock).establish(proxy);
      assert.equal(again.newlyPinned, false);
      assert.equal(again.fingerprint, d.fingerprint);
      await strictConnect(proxy.address, trust.pinned(proxy).caPem);
    } finally {
      await srv.close();
    }
  });

  test('a proxy that later presents another CA is refused, naming both fingerprints and the fix', async () => {
    const first = await startTlsServer({ leaf: leafA, chain: [caA.certPem] });
    const port = first.port;
    const { trust, known } = fresh('mismatch');
    const proxy = parseProxyAddress(`127.0.0.1:${port}`);
    await trust.establish(proxy, { trustOnFirstUse: true });
    trust.confirm(proxy);
    await first.close();
    const second = await startTlsServer({ leaf: leafB, chain: [caB.certPem], port });
    try {
      const err = await strictConnect(proxy.address, trust.pinned(proxy).caPem).then(
        () => assert.fail('a strict handshake against the old CA must fail'),
        (e: unknown) => e,
      );
      const explained = await trust.explainVerifyFailure(proxy, err);
      assert.equal(explained.code, ErrorCode.PROXY_UNTRUSTED);
      assert.ok(explained.message.includes(caFingerprint(caA.certPem)), explained.message);
      assert.ok(explained.message.includes(caFingerprint(caB.certPem)), explained.message);
      assert.ok(explained.message.includes(known.path), 'says which file holds the stale pin');
      assert.match(explained.message, /--ca-pin/);
      // Re-running establish without an explicit pin keeps the old pin: no silent re-trust.
      const d = await trust.establish(proxy, { trustOnFirstUse: true });
      assert.equal(d.fingerprint, caFingerprint(caA.certPem));
      // An explicit, correct --ca-pin replaces it.
      const replaced = await trust.establish(proxy, { caPin: caFingerprint(caB.certPem).toUpperCase() });
      assert.equal(replaced.replacedFingerprint, caFingerprint(caA.certPem));
      assert.equal(replaced.source, 'ca-pin');
      await strictConnect(proxy.address, trust.pinned(proxy).caPem);
    } finally {
      await second.close();
    }
  });

  test('--ca-pin that the proxy does not present is PROXY_UNTRUSTED', async () => {
    const srv = await startTlsServer({ leaf: leafA, chain: [caA.certPem] });
    try {
      const { trust } = fresh('wrong-pin');
      const proxy = parseProxyAddress(`127.0.0.1:${srv.port}`);
      await assert.rejects(trust.establish(proxy, { caPin: caFingerprint(caB.certPem) }), (e: GatehouseError) => {
        return e.code === ErrorCode.PROXY_UNTRUSTED && e.message.includes(caFingerprint(caA.certPem));
      });
      assert.throws(
        () => trust.pinned(proxy),
        (e: GatehouseError) => e.code === ErrorCode.PROXY_UNTRUSTED,
      );
    } finally {
      await srv.close();
    }
  });

  test('--ca-file pins without contacting the proxy; a conflicting --ca-pin is refused', async () => {
    const { trust } = fresh('ca-file');
    const proxy = parseProxyAddress('proxy.invalid:3080');
    const d = await trust.establish(proxy, { caPem: caB.certPem });
    assert.equal(d.source, 'ca-file');
    assert.equal(d.fingerprint, caFingerprint(caB.certPem));
    await assert.rejects(
      trust.establish(proxy, { caPem: caB.certPem, caPin: caFingerprint(caA.certPem) }),
      (e: GatehouseError) => e.code === ErrorCode.BAD_REQUEST,
    );
    await assert.rejects(
      trust.establish(proxy, { caPem: 'not a pem' }),
      (e: GatehouseError) => e.code === ErrorCode.BAD_REQUEST,
    );
  });

  test('a proxy that does not send its CA cannot be pinned on first use', async () => {
    const srv = await startTlsServer({ leaf: leafA });
    try {
      const { trust } = fresh('no-ca');
      const proxy = parseProxyAddress(`127.0.0.1:${srv.port}`);
      await assert.rejects(trust.establish(proxy, { trustOnFirstUse: true }), (e: GatehouseError) => {
        return e.code === ErrorCode.PROXY_UNTRUSTED && /--ca-file/.test(e.message);
      });
    } finally {
      await srv.close();
    }
  });

  test('the host name is checked against the certificate', async () => {
    const onlyLocalhost = await makeLeaf(caA, { cn: 'proxy', dns: ['localhost'] });
    const srv: RunningTls = await startTlsServer({ leaf: onlyLocalhost, chain: [caA.certPem] });
    try {
      await strictConnect(`localhost:${srv.port}`, caA.certPem);
      await assert.rejects(
        strictConnect(`127.0.0.1:${srv.port}`, caA.certPem),
        (e: NodeJS.ErrnoException) => e.code === 'ERR_TLS_CERT_ALTNAME_INVALID',
      );
    } finally {
      await srv.close();
    }
  });

  test('an unreachable proxy is PROXY_UNREACHABLE naming the address', async () => {
    const srv = await startTlsServer({ leaf: leafA });
    const port = srv.port;
    await srv.close();
    const { trust } = fresh('unreachable');
    await assert.rejects(trust.establish(parseProxyAddress(`127.0.0.1:${port}`)), (e: GatehouseError) => {
      return (
        e.code === ErrorCode.PROXY_UNREACHABLE &&
        e.message.includes(`127.0.0.1:${port}`) &&
        /ECONNREFUSED/.test(e.message)
      );
    });
  });
});

test('normalizeFingerprint accepts the usual spellings and refuses others', () => {
  const hex = 'ab'.repeat(32);
  assert.equal(normalizeFingerprint(`SHA256:${hex}`), `SHA256:${hex}`);
  assert.equal(normalizeFingerprint(`sha256:${hex.toUpperCase().match(/../g)!.join(':')}`), `SHA256:${hex}`);
  assert.equal(normalizeFingerprint(hex), `SHA256:${hex}`);
  assert.throws(
    () => normalizeFingerprint('SHA256:abc'),
    (e: GatehouseError) => e.code === ErrorCode.BAD_REQUEST,
  );
});
