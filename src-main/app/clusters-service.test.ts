// Adding a cluster only with the CA the user confirmed, against a real TLS server on loopback
// presenting a CA (test-support/test-pki.ts): a different CA than the confirmed one is refused
// with PROXY_UNTRUSTED and nothing is pinned or added. The happy path (probe, then add with the
// probed fingerprint) needs a real cluster: integration/device-service.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caFingerprint, makePin } from '../core/known-proxies.ts';
import { makeCa, makeLeaf, startTlsServer, type RunningTls } from '../../test-support/test-pki.ts';
import { displayFingerprint } from './clusters-service.ts';
import { composeServices, type AppServices } from './compose.ts';

describe('clusters.add with a confirmed CA fingerprint', () => {
  let home: string;
  let services: AppServices;
  let server: RunningTls;
  let presented: string;
  let other: string;
  let otherPem: string;

  before(async () => {
    const caA = await makeCa('presented CA');
    const caB = await makeCa('confirmed CA');
    server = await startTlsServer({
      leaf: await makeLeaf(caA, { cn: 'proxy', ips: ['127.0.0.1'] }),
      chain: [caA.certPem],
    });
    presented = caFingerprint(caA.certPem);
    other = caFingerprint(caB.certPem);
    otherPem = caB.certPem;
    home = mkdtempSync(join(tmpdir(), 'gh-clusters-'));
    services = composeServices({
      home,
      host: 'browser',
      localUser: 'alice',
      watchEnrollments: false,
      timeoutMs: 5_000,
    });
  });
  after(async () => {
    await services.close();
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  test('fingerprints are shown as colon-separated upper-case hex, and accepted in any notation', () => {
    const shown = displayFingerprint(presented);
    assert.match(shown, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(displayFingerprint(shown), shown);
    assert.equal(displayFingerprint(shown.toLowerCase()), shown);
  });

  test('a proxy presenting another CA than the confirmed one is refused; nothing is pinned or added', async () => {
    const proxy = `127.0.0.1:${server.port}`;
    const e = await services.clusters.add(proxy, { confirmedFingerprint: displayFingerprint(other) }).then(
      () => assert.fail('added'),
      (err: unknown) => err as { code: string; message: string; details: Record<string, unknown> },
    );
    assert.equal(e.code, 'PROXY_UNTRUSTED');
    assert.match(e.message, /no longer presents the certificate authority .* you confirmed, so it was not added/);
    assert.equal(e.details['reason'], 'fingerprint-changed');
    assert.equal(services.core.knownProxies.get(proxy), undefined);
    assert.deepEqual(services.clusters.list(), []);
  });

  test('a proxy already pinned to another CA is not re-pinned from a confirmation', async () => {
    const proxy = `127.0.0.1:${server.port}`;
    services.core.knownProxies.set(proxy, makePin(otherPem, 'first-use', new Date()));
    await assert.rejects(services.clusters.add(proxy, { confirmedFingerprint: presented }), {
      code: 'PROXY_UNTRUSTED',
      message: /is already pinned to certificate authority/,
    });
    assert.equal(services.core.knownProxies.get(proxy)?.fingerprint, other);
  });
});
