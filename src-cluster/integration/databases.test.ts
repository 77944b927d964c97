// Database access, auth side, end to end on a real cluster: `gatectl create -f` / `get` / `rm` of
// kind db; `gatectl auth sign --format db` checked with openssl; a logged-in user's ListDatabases
// and IssueRouteCertificate over the real API; a joined db service registering its databases,
// getting database client certificates and sending audit batches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectError } from '@connectrpc/connect';
import { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ClusterService } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { ERROR_CODE_HEADER } from '../../src-shared/errors.ts';
import { identityFromClientCert } from '../auth/x509.ts';
import { adminIdentityOf, apiClient, newServiceKeys } from './api-clients.ts';
import { TestCluster } from './harness.ts';

const DB_YAML = (name: string, env: string) =>
  `kind: db\nversion: v3\nmetadata:\n  name: ${name}\n  labels: {env: ${env}}\nspec:\n  protocol: postgres\n  uri: ${name}.internal:5432\n`;

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => assert.fail('expected a refusal'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof ConnectError, String(e));
  return { code: e.metadata.get(ERROR_CODE_HEADER) ?? '', message: e.rawMessage };
}

function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('databases: resources, database CA and certificate calls', () => {
  const cluster = new TestCluster({ clusterName: 'db-it', nodeName: 'db-it-node' });
  let hostCas: string[] = [];
  const ok = (r: { status: number; stderr: string; stdout: string }) => {
    assert.equal(r.status, 0, r.stderr + r.stdout);
    return r.stdout;
  };
  const yamlFile = (text: string) => {
    const path = join(cluster.dir, `db-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    await cluster.start();
    hostCas = adminIdentityOf(cluster.dataDir).tls_host_ca_pem;
  });
  after(() => cluster.destroy());

  test('gatectl create -f, get db, get db/NAME and rm db/NAME; bad YAML saves nothing', () => {
    assert.match(
      ok(cluster.gatectl(['create', '-f', yamlFile(DB_YAML('orders', 'dev'))])),
      /database "orders" has been created/,
    );
    assert.match(
      ok(cluster.gatectl(['get', 'db'])),
      /NAME\s+PROTOCOL\s+URI\s+LABELS\norders\s+postgres\s+orders\.internal:5432\s+env=dev/,
    );
    assert.match(ok(cluster.gatectl(['get', 'db/orders'])), /kind: db\nversion: v3\nmetadata:\n {2}name: orders/);
    const bad = cluster.gatectl(['create', '-f', yamlFile(DB_YAML('broken', 'dev').replace('5432', '99999'))]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /spec\.uri: port "99999" is not a number from 1 to 65535/);
    assert.doesNotMatch(ok(cluster.gatectl(['get', 'db'])), /broken/);
    ok(cluster.gatectl(['create', '-f', yamlFile(DB_YAML('tmp', 'dev'))]));
    ok(cluster.gatectl(['rm', 'db/tmp']));
    assert.doesNotMatch(ok(cluster.gatectl(['get', 'db'])), /tmp/);
  });

  test('users add --db-users / --db-names set the traits {{internal.db_users}} / {{internal.db_names}} expand to', () => {
    ok(cluster.gatectl(['users', 'add', 'carol', '--roles=access', '--db-users=carol,ro', '--db-names=shop']));
    assert.match(
      ok(cluster.gatectl(['get', 'user/carol'])),
      /traits:\n {4}logins: \[\]\n {4}db_users:\n {6}- carol\n {6}- ro\n {4}db_names:\n {6}- shop/,
    );
    const bad = cluster.gatectl(['users', 'add', 'dave', '--roles=access', '--db-users=-x']);
    assert.match(bad.stderr, /spec\.traits\.db_users\[0\]: "-x" is not a valid database user/);
  });

  test('auth sign --format db writes a key (0600), a certificate openssl verifies against PREFIX.cas, and the CA', () => {
    const prefix = join(cluster.dir, 'pg-server');
    const out = ok(
      cluster.gatectl([
        'auth',
        'sign',
        '--format',
        'db',
        '--host',
        'db1.internal,127.0.0.1',
        '--out',
        prefix,
        '--ttl',
        '2160h',
      ]),
    );
    assert.match(out, new RegExp(`ssl_cert_file = '${prefix}\\.crt'`));
    assert.match(out, new RegExp(`ssl-key = ${prefix}\\.key`));
    assert.match(out, /hostssl all all <db service address>\/32 cert/);
    assert.equal(statSync(`${prefix}.key`).mode & 0o777, 0o600);
    assert.match(openssl(['verify', '-CAfile', `${prefix}.cas`, `${prefix}.crt`]), /: OK/);
    const text = openssl(['x509', '-in', `${prefix}.crt`, '-noout', '-text']);
    assert.match(text, /DNS:db1\.internal, IP Address:127\.0\.0\.1/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /Subject: CN\s?=\s?db1\.internal/);
    // The key belongs to the certificate.
    const keyPub = createPublicKey(readFileSync(`${prefix}.key`, 'utf8')).export({ format: 'der', type: 'spki' });
    assert.ok(
      new X509Certificate(readFileSync(`${prefix}.crt`)).publicKey
        .export({ format: 'der', type: 'spki' })
        .equals(keyPub),
    );
    const exported = ok(cluster.gatectl(['auth', 'export', '--type', 'db-client']));
    assert.equal(exported.trim(), readFileSync(`${prefix}.cas`, 'utf8').trim());
    const again = cluster.gatectl(['auth', 'sign', '--format', 'db', '--host', 'db1', '--out', prefix]);
    assert.match(again.stderr, /already exists; pass --overwrite/);
    const tooLong = cluster.gatectl([
      'auth',
      'sign',
      '--format',
      'db',
      '--host',
      'db1',
      '--out',
      `${prefix}-2`,
      '--ttl',
      '9000h',
    ]);
    assert.match(tooLong.stderr, /longer than the maximum of 1 year/);
  });

  test("a user lists the databases their roles allow and gets a route certificate from their login's certificate", async () => {
    ok(cluster.gatectl(['create', '-f', yamlFile(DB_YAML('prod1', 'prod'))]));
    cluster.apply(
      'kind: role\nversion: v7\nmetadata: {name: dba}\nspec:\n  allow:\n    db_labels: {env: dev}\n    db_users: ["{{internal.db_users}}", ro]\n    db_names: ["*"]\n',
    );
    ok(cluster.addUserAndLogin('alice', 'correct-horse-battery-1', 'dba'));
    cluster.apply(
      'kind: user\nversion: v2\nmetadata: {name: alice}\nspec:\n  roles: [dba]\n  traits: {logins: [root], db_users: [alice]}\n',
    );
    const dir = join(cluster.home, 'profiles');
    const [proxyDir] = readdirSync(dir);
    const profile = join(dir, proxyDir!, 'alice');
    const certPem = readFileSync(join(profile, 'tls.crt'), 'utf8');
    const keyPem = readFileSync(join(profile, 'key'), 'utf8');
    const client = apiClient(AuthService, cluster.proxyAddr, hostCas, { certPem, keyPem });
    try {
      const { databases } = await client.listDatabases({});
      assert.deepEqual(
        databases.map((d) => [d.name, d.protocol, d.allowedDbUsers, d.allowedDbNames]),
        [['orders', 'postgres', ['alice', 'ro'], ['*']]],
      );
      const tlsPublicKeyPem = createPublicKey(keyPem).export({ format: 'pem', type: 'spki' }) as string;
      const req = { tlsPublicKeyPem, kind: 'db', name: 'orders', dbUser: 'alice', dbName: '', ttlSeconds: 0n };
      const issued = await client.issueRouteCertificate(req);
      const route = new X509Certificate(issued.tlsCertPem);
      const id = identityFromClientCert(route.raw);
      assert.deepEqual(
        [id.user, id.roles, id.route],
        ['alice', ['dba'], { kind: 'db', name: 'orders', dbUser: 'alice' }],
      );
      assert.ok(Date.parse(route.validTo) <= Date.parse(new X509Certificate(certPem).validTo));
      assert.equal((await refusal(client.issueRouteCertificate({ ...req, name: 'nope' }))).code, 'DB_NOT_FOUND');
      const events = ok(cluster.gatectl(['audit', '--type', 'cert.create', '--format', 'json', '--limit', '1']));
      assert.match(events, /"route_name":"orders"/);
      // Signing database server certificates is an admin's: alice's roles grant no cert_authority rule.
      const sign = client.signDatabaseServerCertificate({ tlsPublicKeyPem, hosts: ['db1'], ttlSeconds: 0n });
      assert.match((await refusal(sign)).message, /may not create cert_authority resources/);
      const asUser = apiClient(ClusterService, cluster.proxyAddr, hostCas, { certPem, keyPem });
      const register = await refusal(asUser.registerDatabases({ resourceJson: [] }));
      asUser.close();
      assert.match(register.message, /a user certificate cannot make it/);
      ok(cluster.gatectl(['lock', '--user', 'alice', '--message', 'incident 7']));
      const locked = await refusal(client.issueRouteCertificate(req));
      assert.deepEqual(locked, {
        code: 'ACCESS_DENIED',
        message: 'lock targeting User:"alice" is in force: incident 7',
      });
    } finally {
      client.close();
    }
  });

  test('a db service registers its databases, gets database client certificates and sends audit batches', async () => {
    const token = /The join token: (\S+)/.exec(
      ok(cluster.gatectl(['tokens', 'add', '--type=db,node', '--multi-use'])),
    )?.[1];
    assert.ok(token);
    const join_ = async (role: string, name: string) => {
      const keys = newServiceKeys();
      const pub = apiClient(ClusterService, cluster.proxyAddr, hostCas);
      const joined = await pub.join({
        token,
        role,
        name,
        sshPublicKey: '',
        tlsPublicKeyPem: keys.tlsPublicKeyPem,
        dnsNames: [],
        ips: [],
      });
      pub.close();
      return {
        keys,
        client: apiClient(ClusterService, cluster.proxyAddr, hostCas, {
          certPem: joined.tlsCertPem,
          keyPem: keys.keyPem,
        }),
      };
    };
    const db = await join_('db', 'db-svc-1');
    const node = await join_('node', 'not-a-db');
    try {
      const doc = (name: string) =>
        JSON.stringify({
          kind: 'db',
          version: 'v3',
          metadata: { name, labels: { env: 'dev' } },
          spec: { protocol: 'mysql', uri: `${name}:3306` },
        });
      await db.client.registerDatabases({ resourceJson: [doc('static-a'), doc('static-b')] });
      assert.match(
        ok(cluster.gatectl(['get', 'db'])),
        /static-a\s+mysql\s+static-a:3306\s+env=dev,gatehouse\.dev\/origin=config,gatehouse\.dev\/db-service=db-svc-1/,
      );
      await db.client.registerDatabases({ resourceJson: [doc('static-a')] });
      assert.doesNotMatch(ok(cluster.gatectl(['get', 'db'])), /static-b/);
      assert.equal(
        (await refusal(db.client.registerDatabases({ resourceJson: [doc('orders')] }))).code,
        'ALREADY_EXISTS',
      );
      assert.equal((await refusal(node.client.registerDatabases({ resourceJson: [] }))).code, 'ACCESS_DENIED');

      const signed = await db.client.signDatabaseClientCertificate({
        tlsPublicKeyPem: db.keys.tlsPublicKeyPem,
        dbUser: 'alice',
      });
      const cert = new X509Certificate(signed.tlsCertPem);
      assert.equal(cert.subject, 'CN=alice');
      assert.ok(cert.verify(new X509Certificate(signed.dbCaPems[0]!).publicKey));
      assert.equal(signed.dbCaPems[0]!.trim(), ok(cluster.gatectl(['auth', 'export', '--type', 'db-client'])).trim());
      const byNode = node.client.signDatabaseClientCertificate({
        tlsPublicKeyPem: node.keys.tlsPublicKeyPem,
        dbUser: 'alice',
      });
      assert.equal((await refusal(byNode)).code, 'ACCESS_DENIED');

      const query = (i: number) => ({
        type: 'db.session.query',
        fieldsJson: JSON.stringify({ session_id: 's1', statement: `select ${i}` }),
        success: true,
        user: 'alice',
        message: '',
      });
      await db.client.emitAuditEvents({ events: Array.from({ length: 500 }, (_, i) => query(i)) });
      const stored = ok(cluster.gatectl(['audit', '--type', 'db.session.query', '--format', 'json', '--limit', '1000']))
        .trim()
        .split('\n');
      assert.equal(stored.length, 500);
      assert.match(stored[0]!, /"server_name":"db-svc-1"/);
      const tooMany = await refusal(
        db.client.emitAuditEvents({ events: Array.from({ length: 501 }, (_, i) => query(i)) }),
      );
      assert.equal(tooMany.code, 'REQUEST_TOO_LARGE');
      const badOne = await refusal(
        db.client.emitAuditEvents({ events: [query(1), { ...query(2), type: 'user.login' }] }),
      );
      assert.match(badOne.message, /event 2: services may not emit audit events of type "user.login"/);

      const abort = new AbortController();
      const seen: string[] = [];
      for await (const e of db.client.watchResources({ kinds: ['db'] }, { signal: abort.signal })) {
        if (e.type === 'put') seen.push(`${e.kind}/${e.name}`);
        if (e.type === 'init') break;
      }
      abort.abort();
      assert.deepEqual(seen.sort(), ['db/orders', 'db/prod1', 'db/static-a']);
    } finally {
      db.client.close();
      node.client.close();
    }
  });
});
