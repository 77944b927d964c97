import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { parseAuthorizedKey, wireToPublicKey } from '../../src-shared/sshcert/index.ts';
import { generateClientKey, loadClientKey } from './keys.ts';
import { DEFAULT_PROXY_PORT, parseProxyAddress } from './proxy-address.ts';

test('one P-256 key: its authorized_keys line is the same key that signs for TLS', () => {
  const k = generateClientKey('alice@gatehouse');
  assert.match(k.publicKeyLine, /^ecdsa-sha2-nistp256 [A-Za-z0-9+/=]+ alice@gatehouse$/);
  const fromLine = wireToPublicKey(parseAuthorizedKey(k.publicKeyLine));
  const sig = sign('sha256', Buffer.from('hello'), k.privateKey);
  assert.ok(verify('sha256', Buffer.from('hello'), fromLine, sig));
  assert.ok(
    createPublicKey(k.privateKeyPem)
      .export({ format: 'der', type: 'spki' })
      .equals(fromLine.export({ format: 'der', type: 'spki' })),
  );
  assert.match(k.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.notEqual(generateClientKey().fingerprint, k.fingerprint, 'every login gets a fresh key');
});

test('loadClientKey round-trips and refuses keys that are not ours', () => {
  const k = generateClientKey();
  assert.ok(loadClientKey(k.privateKeyPem).publicKeyBlob.equals(k.publicKeyBlob));
  const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  assert.throws(
    () => loadClientKey(ed),
    (e: GatehouseError) => e.code === ErrorCode.CERT_INVALID,
  );
  assert.throws(
    () => loadClientKey('garbage'),
    (e: GatehouseError) => e.code === ErrorCode.CERT_INVALID,
  );
});

test('proxy addresses: default port, URLs, IPv6, and nonsense', () => {
  assert.deepEqual(parseProxyAddress('Proxy.Example.com'), {
    host: 'proxy.example.com',
    port: DEFAULT_PROXY_PORT,
    address: 'proxy.example.com:3080',
  });
  assert.equal(parseProxyAddress('https://127.0.0.1:3443/').address, '127.0.0.1:3443');
  assert.deepEqual(parseProxyAddress('[::1]:4000'), { host: '::1', port: 4000, address: '[::1]:4000' });
  assert.equal(parseProxyAddress('::1').address, '[::1]:3080');
  for (const bad of ['', 'host:0', 'host:99999', 'host:12a', 'us er@host', 'a:b:c']) {
    assert.throws(
      () => parseProxyAddress(bad),
      (e: GatehouseError) => e.code === ErrorCode.BAD_REQUEST,
      bad,
    );
  }
});
