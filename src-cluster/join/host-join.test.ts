import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { openAuthFixture, type AuthFixture } from '../auth/security/auth-fixture.ts';
import { hostIdentityFromCert } from '../auth/host-identity.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import { createLogger } from '../log/logger.ts';
import {
  formatAuthorizedKey,
  parseCertificateLine,
  publicKeyToWire,
  verifyCertificate,
} from '../../src-shared/sshcert/index.ts';
import { HostJoin, MAX_FAILED_JOINS_PER_MINUTE, type JoinInput } from './host-join.ts';
import { JoinTokenStore } from './join-tokens.ts';
import { ServerInventory } from './server-inventory.ts';

describe('joining with a token', () => {
  let f: AuthFixture;
  let tokens: JoinTokenStore;
  let servers: ServerInventory;
  let join: HostJoin;
  const tlsKey = () =>
    createPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey).export({
      type: 'spki',
      format: 'pem',
    }) as string;
  const sshKey = formatAuthorizedKey(publicKeyToWire(generateKeyPairSync('ed25519').publicKey), 'host');
  let seq = 0;
  const input = (token: string, over: Partial<JoinInput> = {}): JoinInput => ({
    token,
    role: 'node',
    name: `node-${++seq}`,
    sshPublicKey: sshKey,
    tlsPublicKeyPem: tlsKey(),
    dnsNames: ['node.example'],
    ips: ['127.0.0.1'],
    peerAddress: '10.1.1.1',
    ...over,
  });
  const failures = async () =>
    (await f.audit.search({ type: 'join.token.failed', order: 'asc', limit: 1000 })).events.map((e) => e['reason']);

  before(async () => {
    f = await openAuthFixture();
    tokens = new JoinTokenStore(f.backend);
    servers = new ServerInventory(f.backend, f.auth);
    join = new HostJoin({
      clusterName: 'security-test',
      cas: f.auth.cas,
      signHostCert: (k, p, ttl) => f.auth.signHostCert(k, p, ttl),
      tokens,
      servers,
      audit: f.audit,
      log: createLogger({ level: 'error', write: () => {} }),
    });
  });
  after(() => f.close());

  test('a token buys a host certificate from the host CA and an SSH host certificate, audited', async () => {
    const { token, record } = await tokens.create({ roles: ['node'], createdBy: 'admin' });
    const issued = await join.join(input(token, { name: 'web-1' }));
    const cert = new X509Certificate(issued.tlsCertPem);
    const id = hostIdentityFromCert(cert.raw, issued.tlsHostCaPems);
    assert.ok(id);
    assert.deepEqual([id.name, id.role, id.clusterName, id.hostId], ['web-1', 'node', 'security-test', issued.hostId]);
    assert.equal(hostIdentityFromCert(cert.raw, issued.tlsUserCaPems), undefined);
    assert.equal(Math.floor(id.notAfter.getTime() / 1000), Math.floor(issued.expires.getTime() / 1000));
    const ssh = parseCertificateLine(issued.sshHostCert);
    assert.equal(ssh.type, 'host');
    assert.deepEqual(ssh.principals, ['web-1', 'node.example', '127.0.0.1']);
    const verdict = verifyCertificate(ssh, {
      trustedCAs: [f.auth.cas.sshHost.publicBlob],
      type: 'host',
      principal: 'web-1',
    });
    assert.equal(verdict.ok, true, verdict.ok ? '' : verdict.reason);
    const wrongCa = verifyCertificate(ssh, { trustedCAs: [f.auth.cas.sshUser.publicBlob], type: 'host' });
    assert.equal(wrongCa.ok, false);
    assert.deepEqual(issued.sshUserCaKeys, [f.auth.cas.sshUser.authorizedKey]);
    const used = (await f.audit.search({ type: 'join.token.used' })).events[0]!;
    assert.equal(used['token_id'], record.id);
    assert.equal(used['host_id'], issued.hostId);
    assert.equal(used['peer_address'], '10.1.1.1');
  });

  test('refusals: reused, wrong role, unknown, bad input; each audited with its reason', async () => {
    const { token } = await tokens.create({ roles: ['node'], createdBy: 'admin' });
    await join.join(input(token));
    await assert.rejects(join.join(input(token, { peerAddress: '10.2.0.1' })), /already used/);
    const proxyOnly = await tokens.create({ roles: ['proxy'], createdBy: 'admin' });
    await assert.rejects(join.join(input(proxyOnly.token, { peerAddress: '10.2.0.2' })), /does not allow role "node"/);
    await assert.rejects(join.join(input('nope', { peerAddress: '10.2.0.3' })), /unknown/);
    await assert.rejects(join.join(input(proxyOnly.token, { role: 'proxy', name: 'Bad Name' })), {
      code: ErrorCode.BAD_REQUEST,
    });
    await assert.rejects(join.join(input(proxyOnly.token, { role: 'proxy', tlsPublicKeyPem: 'x' })), /PEM public key/);
    assert.deepEqual(await failures(), [
      'token_already_used',
      'role_not_allowed',
      'unknown_token',
      'bad_request',
      'bad_request',
    ]);
    // The refused inputs did not spend the proxy token.
    await join.join(input(proxyOnly.token, { role: 'proxy' }));
  });

  test('a name held by another live service is refused before the token is spent', async () => {
    const first = await tokens.create({ roles: ['node'], createdBy: 'admin' });
    const issued = await join.join(input(first.token, { name: 'taken' }));
    const host = hostIdentityFromCert(new X509Certificate(issued.tlsCertPem).raw, issued.tlsHostCaPems)!;
    await servers.heartbeat(host, { address: '127.0.0.1:3022', hostname: 'h', version: '1', labels: {} });
    const second = await tokens.create({ roles: ['node'], createdBy: 'admin' });
    await assert.rejects(join.join(input(second.token, { name: 'taken' })), { code: ErrorCode.ALREADY_EXISTS });
    assert.equal((await tokens.list()).find((t) => t.id === second.record.id)?.uses, 0);
  });

  test('renewal keeps host id, name and role; another cluster is refused', async () => {
    const { token } = await tokens.create({ roles: ['proxy'], createdBy: 'admin' });
    const issued = await join.join(input(token, { role: 'proxy', name: 'proxy-a', sshPublicKey: '' }));
    assert.equal(issued.sshHostCert, '');
    const host = hostIdentityFromCert(new X509Certificate(issued.tlsCertPem).raw, issued.tlsHostCaPems)!;
    const renewed = await join.renew(host, { sshPublicKey: '', tlsPublicKeyPem: tlsKey(), dnsNames: [], ips: [] });
    const again = hostIdentityFromCert(new X509Certificate(renewed.tlsCertPem).raw, renewed.tlsHostCaPems)!;
    assert.deepEqual([again.hostId, again.name, again.role], [host.hostId, 'proxy-a', 'proxy']);
    await assert.rejects(
      join.renew(
        { ...host, clusterName: 'other' },
        { sshPublicKey: '', tlsPublicKeyPem: tlsKey(), dnsNames: [], ips: [] },
      ),
      { code: ErrorCode.CERT_INVALID },
    );
  });

  test('failed joins from one address are rate limited (and that is audited too)', async () => {
    for (let i = 0; i < MAX_FAILED_JOINS_PER_MINUTE; i++) {
      await assert.rejects(join.join(input(`guess-${i}`, { peerAddress: '10.9.9.9' })), /unknown/);
    }
    const { token } = await tokens.create({ roles: ['node'], createdBy: 'admin' });
    await assert.rejects(join.join(input(token, { peerAddress: '10.9.9.9' })), { code: ErrorCode.RATE_LIMITED });
    assert.equal((await failures()).at(-1), 'rate_limited');
    // Other sources are not affected.
    await join.join(input(token, { peerAddress: '10.9.9.10' }));
  });
});
