import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeCa, makeLeaf } from '../test-support/test-pki.ts';
import { TlsContextCache } from './tls-contexts.ts';

test('the same PEMs get the same context; another certificate, CA or version gets its own', async () => {
  const ca = await makeCa('ctx-ca');
  const other = await makeCa('ctx-other');
  const a = await makeLeaf(ca, { cn: 'a', client: true });
  const b = await makeLeaf(ca, { cn: 'b', client: true });
  const cache = new TlsContextCache();
  const first = cache.get({ ca: [ca.certPem], cert: a.certPem, key: a.keyPem });
  assert.equal(cache.get({ ca: [ca.certPem], cert: a.certPem, key: a.keyPem }), first);
  assert.notEqual(cache.get({ ca: [ca.certPem], cert: b.certPem, key: b.keyPem }), first);
  assert.notEqual(cache.get({ ca: [other.certPem], cert: a.certPem, key: a.keyPem }), first);
  assert.notEqual(cache.get({ ca: [ca.certPem], cert: a.certPem, key: a.keyPem, minVersion: 'TLSv1.3' }), first);
  assert.equal(cache.size, 4);
});

test('past its bound the least recently used context is dropped', async () => {
  const ca = await makeCa('ctx-lru');
  const cache = new TlsContextCache(2);
  const x = cache.get({ ca: [ca.certPem] });
  cache.get({ ca: [ca.certPem], minVersion: 'TLSv1.3' });
  assert.equal(cache.get({ ca: [ca.certPem] }), x, 'x used again: now the most recent');
  cache.get({ ca: [ca.certPem], minVersion: 'TLSv1.2', cert: ca.certPem, key: ca.keyPem });
  assert.equal(cache.size, 2);
  assert.equal(cache.get({ ca: [ca.certPem] }), x, 'the TLSv1.3 one was dropped, not x');
});

test('PEMs that do not load throw (the caller decides what that means)', () => {
  assert.throws(() => new TlsContextCache().get({ ca: ['not a PEM'], cert: 'nope', key: 'nope' }));
});
