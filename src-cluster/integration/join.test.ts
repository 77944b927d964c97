// Joining end to end on a real cluster: `gatectl tokens add|ls|rm`, a service joining over the
// real API with the generated Connect client (pinned to the host CA), then calling as that
// service with its host certificate. Bad joins (reused, expired, wrong role, unknown, a double
// spend, a certificate from another CA) are refused with their reason and read back from the
// audit log with `gatectl audit`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ClusterService, type JoinResponse } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { ERROR_CODE_HEADER } from '../../src-shared/errors.ts';
import { BUILTIN_ADMIN_USER } from '../../src-shared/cert-fields.ts';
import { createCertAuthority } from '../auth/x509.ts';
import { issueHostCert } from '../auth/host-identity.ts';
import { adminIdentityOf, apiClient, newServiceKeys, type ServiceKeys } from './api-clients.ts';
import { TestCluster } from './harness.ts';

type Event = Record<string, unknown> & { type: string; success: boolean };

/** The stable error code a refused call carried (see src-cluster/api/errors.ts). */
async function refusedWith(p: Promise<unknown>, message: RegExp): Promise<string> {
  const e = await p.then(
    () => assert.fail(`expected a refusal matching ${message}`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof ConnectError, String(e));
  assert.match(e.rawMessage, message);
  return e.metadata.get(ERROR_CODE_HEADER) ?? Code[e.code];
}

describe('joining services with tokens', () => {
  const cluster = new TestCluster({ clusterName: 'join-it', nodeName: 'in-process-node' });
  let hostCas: string[] = [];
  const ok = (r: { status: number; stderr: string; stdout: string }) => {
    assert.equal(r.status, 0, r.stderr + r.stdout);
    return r.stdout;
  };
  const addToken = (...args: string[]) => {
    const out = ok(cluster.gatectl(['tokens', 'add', ...args]));
    const token = /The join token: (\S+)/.exec(out)?.[1];
    const id = /id ([0-9a-f]+)/.exec(out)?.[1];
    assert.ok(token && id, out);
    return { token, id, out };
  };
  const publicClient = () => apiClient(ClusterService, cluster.proxyAddr, hostCas);
  const joinAs = (token: string, role: string, name: string, keys: ServiceKeys = newServiceKeys()) =>
    publicClient().join({
      token,
      role,
      name,
      sshPublicKey: keys.sshPublicKey,
      tlsPublicKeyPem: keys.tlsPublicKeyPem,
      dnsNames: [],
      ips: ['127.0.0.1'],
    });
  const auditOf = (type: string): Event[] =>
    ok(cluster.gatectl(['audit', '--type', type, '--format', 'json', '--order', 'asc', '--limit', '1000']))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Event);

  before(async () => {
    await cluster.start();
    hostCas = adminIdentityOf(cluster.dataDir).tls_host_ca_pem;
  });
  after(() => cluster.destroy());

  test('tokens add prints the token and the join command; ls shows it without the secret; rm revokes it', () => {
    const { token, id, out } = addToken('--type=node,proxy', '--ttl', '1h');
    assert.ok(
      out.includes(
        `gatehouse start --roles=node,proxy --auth-server ${cluster.proxyAddr} --ca-pin ${cluster.caPin} --token ${token}`,
      ),
      out,
    );
    const ls = ok(cluster.gatectl(['tokens', 'ls']));
    assert.match(ls, new RegExp(`${id}\\s+node,proxy\\s+\\S+\\s+single-use\\s+0\\s+${BUILTIN_ADMIN_USER}`));
    assert.ok(!ls.includes(token), 'ls never prints the secret');
    ok(cluster.gatectl(['tokens', 'rm', id]));
    assert.ok(!ok(cluster.gatectl(['tokens', 'ls'])).includes(id));
    const again = cluster.gatectl(['tokens', 'rm', id]);
    assert.equal(again.status, 3, 'NOT_FOUND keeps its exit code');
    const bad = cluster.gatectl(['tokens', 'add', '--type=kube']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown service role "kube"/);
    assert.equal(cluster.gatectl(['tokens', 'add', '--type=node', '--ttl', '30d']).status, 2, 'over the max TTL');
  });

  test('a node joins, heartbeats, watches, audits as itself, and shows in nodes ls', async () => {
    const { token, id } = addToken('--type=node');
    const keys = newServiceKeys();
    const joined: JoinResponse = await joinAs(token, 'node', 'joined-node', keys);
    assert.equal(joined.clusterName, 'join-it');
    assert.match(joined.hostId, /^[0-9a-f-]{36}$/);
    assert.match(joined.sshHostCert, /^ssh-ed25519-cert-v01@openssh.com /);
    assert.ok(Number(joined.expiresUnix) * 1000 - Date.now() > 23 * 3600_000);
    const used = auditOf('join.token.used').at(-1)!;
    assert.deepEqual(
      [used['token_id'], used['host_id'], used['name'], used['role']],
      [id, joined.hostId, 'joined-node', 'node'],
    );

    const asHost = { certPem: joined.tlsCertPem, keyPem: keys.keyPem };
    const service = apiClient(ClusterService, cluster.proxyAddr, joined.tlsHostCaPems, asHost);
    const server = {
      role: 'node',
      name: 'joined-node',
      hostId: joined.hostId,
      address: '127.0.0.1:4022',
      hostname: 'h',
      version: '9.9.9',
      labels: { team: 'a' },
      lastHeartbeatUnix: 0n,
      stale: false,
    };
    await service.heartbeat({ server });
    assert.equal(
      await refusedWith(service.heartbeat({ server: { ...server, name: 'in-process-node' } }), /does not match/),
      'ACCESS_DENIED',
    );
    const nodes = ok(cluster.gatectl(['nodes', 'ls']));
    assert.match(nodes, /node\s+joined-node\s+127\.0\.0\.1:4022\s+9\.9\.9\s+\d+s ago\s+online\s+team=a/);
    assert.match(nodes, /node\s+in-process-node\s+/);

    // The watch: CA parts first, then current resources, then INIT; never secrets.
    const abort = new AbortController();
    const seen: { type: string; kind: string; name: string; json: string }[] = [];
    for await (const e of service.watchResources({ kinds: [] }, { signal: abort.signal })) {
      seen.push({ type: e.type, kind: e.kind, name: e.name, json: e.resourceJson });
      if (e.type === 'init') break;
    }
    abort.abort();
    assert.equal(seen[0]!.type, 'ca');
    assert.ok(seen.some((e) => e.type === 'put' && e.kind === 'role' && e.name === 'editor'));
    assert.ok(!seen.some((e) => e.kind === 'node'), 'a node may not watch nodes');
    assert.ok(!seen.some((e) => /password|hash|PRIVATE KEY/i.test(e.json)));
    assert.equal(
      await refusedWith(drain(service.watchResources({ kinds: ['node'] })), /may not watch "node"/),
      'ACCESS_DENIED',
    );

    await service.emitAuditEvent({
      type: 'session.start',
      success: true,
      user: 'bob',
      message: '',
      fieldsJson: JSON.stringify({ session_id: 'sx' }),
    });
    const start = auditOf('session.start').find((e) => e['session_id'] === 'sx')!;
    assert.deepEqual(
      [start['user'], start['server_name'], start['server_host_id']],
      ['bob', 'joined-node', joined.hostId],
    );
    assert.equal(
      await refusedWith(
        service.emitAuditEvent({ type: 'user.login', success: true, fieldsJson: '{}' }),
        /may not emit/,
      ),
      'ACCESS_DENIED',
    );

    // A host certificate is not a user, and the admin's user certificate is not a service.
    const hostAsUser = apiClient(AuthService, cluster.proxyAddr, joined.tlsHostCaPems, asHost);
    assert.equal(await refusedWith(hostAsUser.whoAmI({}), /cannot make user calls/), 'ACCESS_DENIED');
    const admin = adminIdentityOf(cluster.dataDir);
    const adminAsHost = apiClient(ClusterService, cluster.proxyAddr, hostCas, {
      certPem: admin.tls_cert_pem,
      keyPem: admin.key_pem,
    });
    assert.equal(await refusedWith(adminAsHost.heartbeat({ server }), /user certificate cannot/), 'ACCESS_DENIED');

    const renewed = await service.renewIdentity({
      sshPublicKey: '',
      tlsPublicKeyPem: newServiceKeys().tlsPublicKeyPem,
      dnsNames: [],
      ips: [],
    });
    assert.equal(renewed.hostId, joined.hostId);
    await service.removeServer({});
    assert.doesNotMatch(ok(cluster.gatectl(['nodes', 'ls'])), /joined-node/);
  });

  test('bad joins are refused with their reason and audited', async () => {
    const before = auditOf('join.token.failed').length;
    const single = addToken('--type=node');
    await joinAs(single.token, 'node', 'n-reuse-1');
    assert.equal(await refusedWith(joinAs(single.token, 'node', 'n-reuse-2'), /already used/), 'BAD_CREDENTIALS');
    const short = addToken('--type=node', '--ttl', '1s');
    await new Promise((r) => setTimeout(r, 1500));
    await refusedWith(joinAs(short.token, 'node', 'n-expired'), /expired/);
    const proxyOnly = addToken('--type=proxy');
    await refusedWith(joinAs(proxyOnly.token, 'node', 'n-role'), /does not allow role "node"/);
    await refusedWith(joinAs('not-a-token', 'node', 'n-unknown'), /unknown/);

    // Concurrent double spend: one join wins, the others hear "already used".
    const race = addToken('--type=node');
    const results = await Promise.allSettled([1, 2, 3].map((i) => joinAs(race.token, 'node', `n-race-${i}`)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);

    const failed = auditOf('join.token.failed').slice(before);
    assert.deepEqual(
      failed.map((e) => e['reason']),
      [
        'token_already_used',
        'expired_token',
        'role_not_allowed',
        'unknown_token',
        'token_already_used',
        'token_already_used',
      ],
    );
    assert.equal(failed[0]!['token_id'], single.id);
    assert.equal(failed[2]!['token_id'], proxyOnly.id);
    assert.ok(failed.every((e) => e.success === false && e['peer_address'] === '127.0.0.1'));
  });

  test('a service certificate from another CA (another cluster) is refused for host calls', async () => {
    const foreignCa = await createCertAuthority('host CA (evil)', 'join-it');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = Date.now();
    const certPem = await issueHostCert({
      ca: foreignCa,
      publicKey: createPublicKey(privateKey),
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 3600_000),
      clusterName: 'join-it',
      hostId: '00000000-0000-4000-8000-000000000000',
      name: 'imposter',
      role: 'proxy',
      dnsNames: [],
      ips: [],
    });
    const keyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const imposter = apiClient(ClusterService, cluster.proxyAddr, hostCas, { certPem, keyPem });
    const code = await refusedWith(drain(imposter.watchResources({ kinds: [] })), /host certificate of this cluster/);
    assert.equal(code, 'CERT_INVALID');
    assert.equal(await refusedWith(imposter.removeServer({}), /not issued|certificate/), 'CERT_INVALID');
    const refused = auditOf('service.auth.failed').filter((e) => e['peer_address'] !== undefined);
    assert.ok(
      refused.some((e) => e['method'] === 'WatchResources'),
      JSON.stringify(refused),
    );
    assert.ok(
      refused.some((e) => e['method'] === 'RemoveServer'),
      JSON.stringify(refused),
    );
  });
});

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) void _;
}
