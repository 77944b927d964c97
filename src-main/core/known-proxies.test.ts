// The proxy pin store and trust decisions without a network: the presented chain comes from an
// injected fetcher (integration/proxy-trust.test.ts does the same against real TLS servers).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { caFingerprint, KnownProxies, makePin } from './known-proxies.ts';
import { parseProxyAddress } from './proxy-address.ts';
import { isFirstUseRefusal, ProxyTrust, type ChainFetcher } from './proxy-trust.ts';
import { makeCa, makeLeaf } from '../../test-support/test-pki.ts';

const clock = () => new Date('2030-01-01T00:00:00Z');
const der = (pem: string) => new X509Certificate(pem).raw;

describe('known proxies', () => {
  let dir: string;
  let caA: Awaited<ReturnType<typeof makeCa>>;
  let caB: Awaited<ReturnType<typeof makeCa>>;
  let chainA: Buffer[];
  let chainB: Buffer[];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gate-known-'));
    caA = await makeCa('A');
    caB = await makeCa('B');
    chainA = [der((await makeLeaf(caA, { cn: 'p', ips: ['127.0.0.1'] })).certPem), der(caA.certPem)];
    chainB = [der((await makeLeaf(caB, { cn: 'p', ips: ['127.0.0.1'] })).certPem), der(caB.certPem)];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A trust store over `home` whose proxy presents whatever `presented.chain` holds. */
  function setup(home: string) {
    const presented = { chain: chainA, fetches: 0 };
    const fetchChain: ChainFetcher = async () => {
      presented.fetches++;
      return presented.chain;
    };
    const known = new KnownProxies(join(dir, home));
    return { presented, known, trust: new ProxyTrust(known, clock, { fetchChain }) };
  }
  const proxy = parseProxyAddress('proxy.example');

  test('first contact without the user consenting is refused, with the fingerprint, and pins nothing', async () => {
    const { known, trust } = setup('unconfirmed');
    await assert.rejects(trust.establish(proxy), (e: GatehouseError) => {
      assert.ok(isFirstUseRefusal(e), e.message);
      assert.equal(e.details.fingerprint, caFingerprint(caA.certPem));
      assert.match(e.message, /not known yet .* --ca-pin SHA256:[0-9a-f]{64}, or pass --insecure-trust-on-first-use/);
      return true;
    });
    assert.throws(() => trust.pinned(proxy));
    assert.equal(known.get(proxy.address), undefined);
  });

  test('first pin: the top of the chain, stored 0600 under the canonical address after confirm', async () => {
    const { known, trust } = setup('first');
    const d = await trust.establish(proxy, { trustOnFirstUse: true });
    assert.deepEqual([d.newlyPinned, d.source, d.fingerprint], [true, 'first-use', caFingerprint(caA.certPem)]);
    assert.equal(known.get('proxy.example:3080'), undefined, 'pending until confirmed');
    trust.confirm(proxy);
    const pin = known.get('https://PROXY.example:3080/');
    assert.equal(pin?.fingerprint, caFingerprint(caA.certPem));
    assert.equal(pin?.pinnedAt, '2030-01-01T00:00:00.000Z');
    assert.equal(statSync(known.path).mode & 0o777, 0o600);
  });

  test('match: a stored pin is reused without contacting the proxy', async () => {
    const { presented, known, trust } = setup('match');
    known.set(proxy.address, makePin(caA.certPem, 'first-use', clock()));
    const d = await trust.establish(proxy);
    assert.equal(d.newlyPinned, false);
    assert.equal(presented.fetches, 0);
    assert.equal(trust.pinned(proxy).caPem, known.get(proxy.address)!.caPem);
  });

  test('mismatch: a changed CA is PROXY_UNTRUSTED naming both fingerprints, the file and the fix', async () => {
    const { presented, known, trust } = setup('mismatch');
    known.set(proxy.address, makePin(caA.certPem, 'first-use', clock()));
    presented.chain = chainB;
    const cause = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    const e = await trust.explainVerifyFailure(proxy, cause);
    assert.equal(e.code, ErrorCode.PROXY_UNTRUSTED);
    assert.ok(e.message.includes(`presents CA ${caFingerprint(caB.certPem)}`), e.message);
    assert.ok(e.message.includes(`but CA ${caFingerprint(caA.certPem)} is pinned`), e.message);
    assert.ok(e.message.includes(known.path));
    assert.ok(e.message.includes(`gate login --proxy proxy.example:3080 --ca-pin ${caFingerprint(caB.certPem)}`));
    // Same CA but still failing (e.g. host name): the TLS reason is passed on instead.
    presented.chain = chainA;
    const other = await trust.explainVerifyFailure(
      proxy,
      Object.assign(new Error("Hostname/IP does not match certificate's altnames"), {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      }),
    );
    assert.equal(other.code, ErrorCode.PROXY_UNTRUSTED);
    assert.match(other.message, /altnames/);
  });

  test('an unknown proxy has no pin: authenticated calls are told to log in', () => {
    const { trust } = setup('unknown');
    assert.throws(
      () => trust.pinned(proxy),
      (e: GatehouseError) =>
        e.code === ErrorCode.PROXY_UNTRUSTED && /gate login --proxy proxy.example:3080/.test(e.message),
    );
  });

  test('a failed establish forgets an earlier pending pin', async () => {
    const { presented, trust } = setup('pending');
    await trust.establish(proxy, { trustOnFirstUse: true });
    presented.chain = [chainA[0]!]; // no CA in the chain now
    await assert.rejects(
      trust.establish(proxy, { trustOnFirstUse: true }),
      (e: GatehouseError) => e.code === ErrorCode.PROXY_UNTRUSTED,
    );
    assert.throws(() => trust.pinned(proxy));
  });

  test('a damaged known_proxies.json is a STORAGE error that says what to do', () => {
    const { known } = setup('damaged');
    known.set(proxy.address, makePin(caA.certPem, 'first-use', clock()));
    writeFileSync(known.path, '{"version": 1, "proxies": 5}');
    assert.throws(
      () => known.get(proxy.address),
      (e: GatehouseError) => e.code === ErrorCode.STORAGE && /remove it/.test(e.message),
    );
    assert.ok(readFileSync(known.path, 'utf8').includes('5'), 'the file is left for the user to inspect');
  });

  test('a pin read once is re-read when another process changes, edits in place or removes the file', () => {
    const { known } = setup('shared');
    const other = new KnownProxies(join(dir, 'shared')); // another gate process on the same home
    known.set(proxy.address, makePin(caA.certPem, 'first-use', clock()));
    assert.equal(other.get(proxy.address)?.fingerprint, caFingerprint(caA.certPem));
    known.set(proxy.address, makePin(caB.certPem, 'ca-pin', clock()));
    assert.equal(other.get(proxy.address)?.fingerprint, caFingerprint(caB.certPem), 'a rename is a new version');
    // The same length in place (same inode, same size): only the file's times say it changed.
    const text = readFileSync(known.path, 'utf8');
    writeFileSync(known.path, text.replace('"ca-pin"', '"ca-fil"'));
    assert.throws(
      () => other.get(proxy.address),
      (e: GatehouseError) => e.code === ErrorCode.STORAGE,
    );
    writeFileSync(known.path, text);
    assert.equal(other.get(proxy.address)?.source, 'ca-pin');
    rmSync(known.path);
    assert.equal(other.get(proxy.address), undefined);
    assert.deepEqual(other.list(), []);
  });
});
