// Application access, auth side, end to end on a real cluster: `gatectl create -f` / `get` / `rm`
// of kind app; a logged-in user's ListApps and IssueRouteCertificate kind app over the real API; a
// joined app service registering its apps and getting a JWT for the user's app certificate that
// verifies with jose against the GetJwks document.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectError } from '@connectrpc/connect';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ClusterService } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { ERROR_CODE_HEADER } from '../../src-shared/errors.ts';
import { identityFromClientCert } from '../auth/x509.ts';
import { adminIdentityOf, apiClient, newServiceKeys } from './api-clients.ts';
import { TestCluster } from './harness.ts';

const APP_YAML = (name: string, env: string, uri = `http://127.0.0.1:3000`) =>
  `kind: app\nversion: v3\nmetadata:\n  name: ${name}\n  labels: {env: ${env}}\nspec:\n  uri: ${uri}\n  public_addr: ${name}.example.com\n`;

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => assert.fail('expected a refusal'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof ConnectError, String(e));
  return { code: e.metadata.get(ERROR_CODE_HEADER) ?? '', message: e.rawMessage };
}

describe('apps: resources, ListApps, app route certificates, RegisterApps, SignAppToken and GetJwks', () => {
  const cluster = new TestCluster({ clusterName: 'app-it', nodeName: 'app-it-node' });
  let hostCas: string[] = [];
  const ok = (r: { status: number; stderr: string; stdout: string }) => {
    assert.equal(r.status, 0, r.stderr + r.stdout);
    return r.stdout;
  };
  const yamlFile = (text: string) => {
    const path = join(cluster.dir, `app-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, text);
    return path;
  };
  const joinAs = async (token: string, role: string, name: string) => {
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
    return apiClient(ClusterService, cluster.proxyAddr, hostCas, { certPem: joined.tlsCertPem, keyPem: keys.keyPem });
  };

  before(async () => {
    await cluster.start();
    hostCas = adminIdentityOf(cluster.dataDir).tls_host_ca_pem;
  });
  after(() => cluster.destroy());

  test('gatectl create -f, get app, get app/NAME and rm app/NAME; a bad field is refused by name, nothing saved', () => {
    assert.match(
      ok(cluster.gatectl(['create', '-f', yamlFile(APP_YAML('grafana', 'dev'))])),
      /app "grafana" has been created/,
    );
    assert.match(
      ok(cluster.gatectl(['get', 'app'])),
      /NAME\s+KIND\s+URI\s+PUBLIC_ADDR\s+LABELS\ngrafana\s+http\s+http:\/\/127\.0\.0\.1:3000\s+grafana\.example\.com\s+env=dev/,
    );
    assert.match(ok(cluster.gatectl(['get', 'app/grafana'])), /kind: app\nversion: v3\nmetadata:\n {2}name: grafana/);
    const misspelt = APP_YAML('broken', 'dev') + '  rewrite:\n    headers:\n      - {nam: X-Env, value: dev}\n';
    const bad = cluster.gatectl(['create', '-f', yamlFile(misspelt)]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /spec\.rewrite\.headers\[0\]\.nam: unknown field/);
    const forged = cluster.gatectl([
      'create',
      '-f',
      yamlFile(APP_YAML('forged', 'dev') + '  rewrite: {headers: [{name: Gatehouse-Jwt-Assertion, value: x}]}\n'),
    ]);
    assert.match(forged.stderr, /Gatehouse-Jwt-Assertion may not be rewritten/);
    assert.doesNotMatch(ok(cluster.gatectl(['get', 'app'])), /broken|forged/);
    ok(cluster.gatectl(['create', '-f', yamlFile(APP_YAML('tmp', 'dev', 'tcp://127.0.0.1:5432'))]));
    assert.match(ok(cluster.gatectl(['get', 'apps'])), /tmp\s+tcp\s+tcp:\/\/127\.0\.0\.1:5432/);
    ok(cluster.gatectl(['rm', 'app/tmp']));
    assert.doesNotMatch(ok(cluster.gatectl(['get', 'app'])), /tmp/);
  });

  test('a user lists the apps their roles allow, gets an app certificate, and an app service a JWT for it', async () => {
    ok(cluster.gatectl(['create', '-f', yamlFile(APP_YAML('vault', 'prod'))]));
    cluster.apply(
      "kind: role\nversion: v7\nmetadata: {name: require-trusted-device-apps}\nspec:\n  options: {device_trust_mode: required}\n  allow:\n    app_labels: {'*': '*'}\n" +
        '---\nkind: role\nversion: v7\nmetadata: {name: no-prod-apps}\nspec:\n  deny:\n    app_labels: {env: prod}\n',
    );
    ok(cluster.addUserAndLogin('alice', 'correct-horse-battery-1', 'require-trusted-device-apps,no-prod-apps'));
    const dir = join(cluster.home, 'profiles');
    const [proxyDir] = readdirSync(dir);
    const profile = join(dir, proxyDir!, 'alice');
    const certPem = readFileSync(join(profile, 'tls.crt'), 'utf8');
    const keyPem = readFileSync(join(profile, 'key'), 'utf8');
    const client = apiClient(AuthService, cluster.proxyAddr, hostCas, { certPem, keyPem });
    const token = /The join token: (\S+)/.exec(
      ok(cluster.gatectl(['tokens', 'add', '--roles', 'app,node', '--multi-use'])),
    )?.[1];
    assert.ok(token);
    const appService = await joinAs(token, 'app', 'app-svc-1');
    const node = await joinAs(token, 'node', 'not-an-app-service');
    try {
      // Device trust does not hide apps: the untrusted login sees grafana; the deny hides vault.
      const { apps } = await client.listApps({});
      assert.deepEqual(
        apps.map((a) => [a.name, a.kind, a.uri, a.publicAddr, a.labels]),
        [['grafana', 'http', 'http://127.0.0.1:3000', 'grafana.example.com', { env: 'dev' }]],
      );
      const tlsPublicKeyPem = createPublicKey(keyPem).export({ format: 'pem', type: 'spki' }) as string;
      const req = { tlsPublicKeyPem, kind: 'app', name: 'grafana', dbUser: '', dbName: '', ttlSeconds: 0n };
      const issued = await client.issueRouteCertificate(req);
      const routeCert = new X509Certificate(issued.tlsCertPem);
      assert.deepEqual(identityFromClientCert(routeCert.raw).route, { kind: 'app', name: 'grafana' });
      assert.equal((await refusal(client.issueRouteCertificate({ ...req, name: 'nope' }))).code, 'APP_NOT_FOUND');

      const doc = JSON.stringify({
        kind: 'app',
        version: 'v3',
        metadata: { name: 'static-wiki', labels: { env: 'dev' } },
        spec: { uri: 'http://127.0.0.1:8080/wiki' },
      });
      await appService.registerApps({ resourceJson: [doc] });
      assert.match(
        ok(cluster.gatectl(['get', 'app'])),
        /static-wiki\s+http\s+http:\/\/127\.0\.0\.1:8080\/wiki\s+env=dev,gatehouse\.dev\/origin=config,gatehouse\.dev\/app-service=app-svc-1/,
      );
      assert.equal((await refusal(node.registerApps({ resourceJson: [] }))).code, 'ACCESS_DENIED');

      const signed = await appService.signAppToken({ userCertPem: issued.tlsCertPem, app: 'grafana' });
      const jwks = JSON.parse((await node.getJwks({})).jwksJson) as Parameters<typeof createLocalJWKSet>[0];
      const { payload, protectedHeader } = await jwtVerify(signed.jwt, createLocalJWKSet(jwks), {
        issuer: 'app-it',
        audience: 'http://127.0.0.1:3000',
      });
      assert.equal(protectedHeader.alg, 'ES256');
      assert.equal(protectedHeader.kid, jwks.keys[0]?.kid);
      // `gatectl auth export --type jwt` prints the same public key the JWKS publishes.
      const exported = createPublicKey(ok(cluster.gatectl(['auth', 'export', '--type', 'jwt'])));
      assert.ok(exported.equals(createPublicKey({ key: jwks.keys[0]! as JWK & { kty: string }, format: 'jwk' })));
      assert.equal(payload.sub, 'alice');
      assert.equal(payload.username, 'alice');
      assert.deepEqual(payload.roles, ['require-trusted-device-apps', 'no-prod-apps']);
      assert.equal(payload.device_trusted, false);
      assert.equal(Number(signed.expiresUnix), payload.exp);
      assert.ok(payload.exp! - payload.iat! <= 600);
      const byNode = node.signAppToken({ userCertPem: issued.tlsCertPem, app: 'grafana' });
      assert.equal((await refusal(byNode)).code, 'ACCESS_DENIED');
      const loginCert = appService.signAppToken({ userCertPem: certPem, app: 'grafana' });
      assert.match((await refusal(loginCert)).message, /names no route/);

      ok(cluster.gatectl(['lock', '--app', 'grafana', '--message', 'maintenance']));
      const locked = await refusal(client.issueRouteCertificate(req));
      assert.equal(locked.code, 'ACCESS_DENIED');
      assert.match(locked.message, /grafana.* is in force: maintenance/);
    } finally {
      client.close();
      appService.close();
      node.close();
    }
  });
});
