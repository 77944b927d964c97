// Host certificate checks, exit status mapping and the codes of refused channels;
// integration/ssh-session.test.ts drives real SSH channels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { publicKeyToWire, signCertificate } from '../../../src-shared/sshcert/index.ts';
import { GatehouseError } from '../../../src-shared/errors.ts';
import { channelError, checkHostCertificate, exitCodeOfStatus, UNAUTHORIZED_DEVICE } from './ssh-session.ts';

const hostCa = generateKeyPairSync('ed25519').privateKey;
const otherCa = generateKeyPairSync('ed25519').privateKey;
const hostKey = publicKeyToWire(generateKeyPairSync('ed25519').privateKey);
const now = new Date();
const secs = BigInt(Math.floor(now.getTime() / 1000));

function cert(opts: { type?: 'host' | 'user'; principals?: string[]; ca?: typeof hostCa; validBefore?: bigint } = {}) {
  return signCertificate({
    publicKey: hostKey,
    type: opts.type ?? 'host',
    keyId: 'node web1',
    principals: opts.principals ?? ['web1', 'web1.example'],
    validAfter: secs - 60n,
    validBefore: opts.validBefore ?? secs + 3600n,
    caPrivateKey: opts.ca ?? hostCa,
  });
}
const trusted = [publicKeyToWire(hostCa)];

test('a host certificate from the host CA naming the node is accepted', () => {
  assert.equal(checkHostCertificate(cert(), trusted, 'web1', now), undefined);
});

test('host certificates are refused with a reason', () => {
  assert.match(checkHostCertificate(cert(), trusted, 'db1', now)!, /"db1" is not among the certificate's principals/);
  assert.match(checkHostCertificate(cert({ ca: otherCa }), trusted, 'web1', now)!, /not this cluster's host CA/);
  assert.match(
    checkHostCertificate(cert({ type: 'user' }), trusted, 'web1', now)!,
    /user certificate where a host certificate/,
  );
  assert.match(checkHostCertificate(cert({ validBefore: secs - 1n }), trusted, 'web1', now)!, /expired/);
  assert.match(checkHostCertificate(hostKey, trusted, 'web1', now)!, /no host certificate/);
});

test('remote exit status becomes our exit code, signals the way shells report them', () => {
  assert.equal(exitCodeOfStatus({ code: 0 }), 0);
  assert.equal(exitCodeOfStatus({ code: 7 }), 7);
  assert.equal(exitCodeOfStatus({ code: null, signal: 'TERM' }), 143);
  assert.equal(exitCodeOfStatus({ code: null, signal: 'KILL' }), 137);
  assert.equal(exitCodeOfStatus({ code: null }), 255);
});

test("the node's unauthorized-device refusal becomes DEVICE_UNTRUSTED with the node's words; others stay ACCESS_DENIED", () => {
  const refusal = (text: string) => Object.assign(new Error(`(SSH) Channel open failure: ${text}`), { reason: 1 });
  const e = channelError(refusal(UNAUTHORIZED_DEVICE), 'web-1');
  assert.ok(e instanceof GatehouseError);
  assert.equal(e.code, 'DEVICE_UNTRUSTED');
  assert.equal(e.message, 'ssh: rejected: administratively prohibited (unauthorized device)');
  const other = channelError(refusal('login "root" is not allowed'), 'web-1');
  assert.equal(other.code, 'ACCESS_DENIED');
  const unreachable = channelError(
    Object.assign(new Error('(SSH) Channel open failure: connect failed'), { reason: 2 }),
    'web-1',
  );
  assert.equal(unreachable.code, 'NODE_UNREACHABLE');
});
