// First contact with a cluster of several proxies, without a network: the presented chains come
// from an injected fetcher per address. The CA is read from the first proxy that answers, the
// decision says which one, the pin stays keyed by the first address, a proxy presenting another
// CA than --ca-pin is refused (not passed over), and all-down names each proxy and why.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { caFingerprint, KnownProxies } from './known-proxies.ts';
import { parseProxyList, type ProxyAddress } from './proxy-address.ts';
import { isFirstUseRefusal, ProxyTrust, unreachable, type ChainFetcher } from './proxy-trust.ts';
import { makeCa, makeLeaf } from '../../test-support/test-pki.ts';

const clock = () => new Date('2030-01-01T00:00:00Z');
const der = (pem: string) => new X509Certificate(pem).raw;

describe('first contact with several proxies', () => {
  let dir: string;
  let chainA: Buffer[];
  let chainB: Buffer[];
  let pinA = '';
  const [p1, p2, p3] = parseProxyList('p1.example:3080,p2.example:3080,p3.example:3080') as [
    ProxyAddress,
    ProxyAddress,
    ProxyAddress,
  ];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gate-first-contact-'));
    const [caA, caB] = [await makeCa('A'), await makeCa('B')];
    chainA = [der((await makeLeaf(caA, { cn: 'p' })).certPem), der(caA.certPem)];
    chainB = [der((await makeLeaf(caB, { cn: 'p' })).certPem), der(caB.certPem)];
    pinA = caFingerprint(caA.certPem);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Proxies by address: a chain, or the reason it cannot be reached. */
  function setup(home: string, answers: Record<string, Buffer[] | string>) {
    const asked: string[] = [];
    const fetchChain: ChainFetcher = async (proxy) => {
      asked.push(proxy.address);
      const a = answers[proxy.address];
      if (typeof a === 'string') throw unreachable(proxy, Object.assign(new Error(a), { code: a }));
      return a ?? [];
    };
    return { asked, trust: new ProxyTrust(new KnownProxies(join(dir, home)), clock, { fetchChain }) };
  }

  test('the CA comes from the first proxy that answers; the refusal and the decision name it', async () => {
    const { trust, asked } = setup('first-down', { [p1.address]: 'ECONNREFUSED', [p2.address]: chainA });
    const refusal = await trust.establish(p1, {}, [p2, p3]).then(
      () => assert.fail('first contact without consent was accepted'),
      (e: unknown) => e,
    );
    assert.ok(isFirstUseRefusal(refusal));
    assert.equal(refusal.details['fingerprint'], pinA);
    assert.equal(refusal.details['presentedBy'], p2.address);
    assert.match(refusal.message, /\(presented by p2\.example:3080; p1\.example:3080 did not answer\)/);
    const d = await trust.establish(p1, { trustOnFirstUse: true }, [p2, p3]);
    assert.equal(d.proxy, p1.address, 'the pin is keyed by the first proxy');
    assert.equal(d.presentedBy, p2.address);
    assert.equal(d.fingerprint, pinA);
    assert.deepEqual(asked, [p1.address, p2.address, p1.address, p2.address], 'p3 was never asked');
  });

  test('--ca-pin: a proxy answering with another CA is refused, not passed over for the next', async () => {
    const { trust, asked } = setup('impostor', {
      [p1.address]: 'ECONNREFUSED',
      [p2.address]: chainB,
      [p3.address]: chainA,
    });
    await assert.rejects(trust.establish(p1, { caPin: pinA }, [p2, p3]), (e: GatehouseError) => {
      assert.equal(e.code, ErrorCode.PROXY_UNTRUSTED);
      assert.match(e.message, /the proxy at p2\.example:3080 does not present the CA/);
      return true;
    });
    assert.deepEqual(asked, [p1.address, p2.address]);
    assert.throws(() => trust.pinned(p1), 'nothing pinned');
  });

  test('every proxy down: PROXY_UNREACHABLE naming each with its reason', async () => {
    const { trust } = setup('all-down', { [p1.address]: 'ECONNREFUSED', [p2.address]: 'EHOSTUNREACH' });
    await assert.rejects(trust.establish(p1, { caPin: pinA }, [p2]), (e: GatehouseError) => {
      assert.equal(e.code, ErrorCode.PROXY_UNREACHABLE);
      assert.equal(
        e.message,
        "cannot reach any of the cluster's proxies: p1.example:3080 (ECONNREFUSED), p2.example:3080 (EHOSTUNREACH)",
      );
      assert.deepEqual(e.details?.['attempts'], [
        { proxy: p1.address, reason: 'ECONNREFUSED' },
        { proxy: p2.address, reason: 'EHOSTUNREACH' },
      ]);
      return true;
    });
  });

  test('one proxy: its own error, unchanged', async () => {
    const { trust } = setup('single', { [p1.address]: 'ECONNREFUSED' });
    await assert.rejects(trust.establish(p1, { trustOnFirstUse: true }), (e: GatehouseError) => {
      return (
        e.code === ErrorCode.PROXY_UNREACHABLE &&
        e.message === 'cannot reach the proxy at p1.example:3080: ECONNREFUSED'
      );
    });
  });
});
