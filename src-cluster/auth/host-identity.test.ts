import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createCertAuthority, issueClientCert } from './x509.ts';
import { hostIdentityFromCert, issueHostCert } from './host-identity.ts';
import { classifyClientCert, requireHost, requireIdentity, type Peer } from '../api/peer.ts';
import { ErrorCode } from '../../src-shared/errors.ts';

const hour = 3600_000;

async function fixture() {
  const hostCa = await createCertAuthority('host CA', 'alpha');
  const userCa = await createCertAuthority('user CA', 'alpha');
  const otherHostCa = await createCertAuthority('host CA', 'beta');
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const hostCert = (ca = hostCa, notAfter = new Date(now + hour)) =>
    issueHostCert({
      ca,
      publicKey,
      notBefore: new Date(now - 60_000),
      notAfter,
      clusterName: 'alpha',
      hostId: '6f1c2a10-0000-4000-8000-000000000001',
      name: 'node-1',
      role: 'node',
      dnsNames: ['node-1.example'],
      ips: ['127.0.0.1'],
    });
  const userCert = await issueClientCert({
    ca: userCa,
    publicKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + hour),
    user: 'alice',
    roles: ['access'],
    logins: ['alice'],
  });
  const cas = { userCaPems: () => [userCa.certPem], hostCaPems: () => [hostCa.certPem] };
  return { hostCa, userCa, otherHostCa, hostCert, userCert, cas };
}

const der = (pem: string) => new X509Certificate(pem).raw;

test('a host certificate names cluster, host id, service name and role, read back only against the host CA', async () => {
  const f = await fixture();
  const pem = await f.hostCert();
  const id = hostIdentityFromCert(der(pem), [f.hostCa.certPem]);
  assert.ok(id);
  assert.deepEqual(
    { hostId: id.hostId, name: id.name, role: id.role, clusterName: id.clusterName },
    { hostId: '6f1c2a10-0000-4000-8000-000000000001', name: 'node-1', role: 'node', clusterName: 'alpha' },
  );
  assert.ok(Math.abs(id.notAfter.getTime() - Date.now() - hour) < 5000);
  assert.equal(hostIdentityFromCert(der(pem), [f.userCa.certPem]), undefined, 'the user CA did not issue it');
  assert.equal(hostIdentityFromCert(der(pem), [f.otherHostCa.certPem]), undefined, 'another cluster');
  assert.equal(hostIdentityFromCert(der(await f.hostCert(f.otherHostCa)), [f.hostCa.certPem]), undefined);
  assert.equal(hostIdentityFromCert(der(f.userCert), [f.hostCa.certPem]), undefined, 'a user certificate');
  assert.equal(hostIdentityFromCert(Buffer.from('garbage'), [f.hostCa.certPem]), undefined);
});

test('peer: a host certificate never passes as a user, a user certificate never as a service', async () => {
  const f = await fixture();
  const host: Peer = { address: '10.0.0.1', ...classifyClientCert(der(await f.hostCert()), f.cas) };
  assert.equal(host.identity, undefined);
  assert.equal(host.host?.name, 'node-1');
  assert.throws(() => requireIdentity(host), { code: ErrorCode.ACCESS_DENIED });
  assert.equal(requireHost(host).hostId, '6f1c2a10-0000-4000-8000-000000000001');
  assert.equal(requireHost(host, ['node']).role, 'node');
  assert.throws(() => requireHost(host, ['proxy']), { code: ErrorCode.ACCESS_DENIED });

  const user: Peer = { address: '10.0.0.2', ...classifyClientCert(der(f.userCert), f.cas) };
  assert.equal(user.host, undefined);
  assert.equal(requireIdentity(user).user, 'alice');
  assert.throws(() => requireHost(user), { code: ErrorCode.ACCESS_DENIED });

  // Signed by a host CA TLS might trust but this cluster's classification does not: refused both ways.
  const foreign: Peer = { address: '10.0.0.3', ...classifyClientCert(der(await f.hostCert(f.otherHostCa)), f.cas) };
  assert.ok(foreign.refusal);
  assert.throws(() => requireHost(foreign), { code: ErrorCode.CERT_INVALID });
  assert.throws(() => requireIdentity(foreign), { code: ErrorCode.CERT_INVALID });

  assert.throws(() => requireHost({ address: 'x' }), { code: ErrorCode.CERT_INVALID });
});

test('an expired host certificate is refused as expired', async () => {
  const f = await fixture();
  const pem = await f.hostCert(f.hostCa, new Date(Date.now() - 1000));
  const peer: Peer = { address: '10.0.0.1', ...classifyClientCert(der(pem), f.cas) };
  assert.throws(() => requireHost(peer), { code: ErrorCode.CERT_EXPIRED });
});
