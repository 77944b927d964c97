// What auth believes of the forwarding headers: only from a proxy's host certificate, and a
// malformed or oversize forwarded certificate becomes a refusal, never an identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FORWARDED_CERT_ERROR_HEADER,
  FORWARDED_CERT_HEADER,
  FORWARDED_FOR_HEADER,
  forwardedPeer,
} from './forwarded-peer.ts';

interface TestPeer {
  address: string;
  host?: { role: string };
  refusal?: string;
  identity?: { user: string };
}

const proxy: TestPeer = { address: '10.0.0.5', host: { role: 'proxy' } };
const asAlice = () => ({ identity: { user: 'alice' } });
const refuseAll = (): Omit<TestPeer, 'address'> => {
  throw new Error('not DER');
};

test('headers from anyone but a proxy host certificate are ignored', () => {
  const headers = { [FORWARDED_FOR_HEADER]: '1.2.3.4', [FORWARDED_CERT_HEADER]: 'QUxJQ0U=' };
  const node: TestPeer = { address: '10.0.0.6', host: { role: 'node' } };
  const user: TestPeer = { address: '10.0.0.7' };
  assert.equal(forwardedPeer(node, headers, asAlice), node);
  assert.equal(forwardedPeer(user, headers, asAlice), user);
});

test('from a proxy: the forwarded address and the classified certificate', () => {
  const peer = forwardedPeer(
    proxy,
    { [FORWARDED_FOR_HEADER]: '1.2.3.4', [FORWARDED_CERT_HEADER]: 'YWxpY2Utb2s=' },
    asAlice,
  );
  assert.deepEqual(peer, { address: '1.2.3.4', identity: { user: 'alice' } });
  // A proxy's own calls carry no forwarding headers and stay the proxy's.
  assert.equal(forwardedPeer(proxy, {}, asAlice), proxy);
});

test('a malformed, oversize or refused forwarded certificate is a refusal, never an identity', () => {
  const malformed = forwardedPeer(
    proxy,
    { [FORWARDED_FOR_HEADER]: '1.2.3.4', [FORWARDED_CERT_HEADER]: 'bm90LWRlcg==' },
    refuseAll,
  );
  assert.equal(malformed.identity, undefined);
  assert.match(malformed.refusal ?? '', /not a valid certificate/);
  const huge = forwardedPeer(
    proxy,
    { [FORWARDED_FOR_HEADER]: '1.2.3.4', [FORWARDED_CERT_HEADER]: 'A'.repeat(25 << 10) },
    asAlice,
  );
  assert.equal(huge.identity, undefined);
  assert.match(huge.refusal ?? '', /too large/);
  const refused = forwardedPeer(
    proxy,
    { [FORWARDED_FOR_HEADER]: 'x'.repeat(1000), [FORWARDED_CERT_ERROR_HEADER]: 'e'.repeat(1000) },
    asAlice,
  );
  assert.equal(refused.identity, undefined);
  assert.equal(refused.address.length, 256);
  assert.equal(refused.refusal?.length, 256);
});
