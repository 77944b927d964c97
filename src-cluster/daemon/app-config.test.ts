// The config's app_service section: off by default, on with --roles=...,app, and each configured
// app checked as a kind "app" resource would be, the error naming the config field and its line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, parseConfig } from './config.ts';
import { configuredAppAsResource } from './app-config.ts';

const app = (fields: string) => `app_service:\n  enabled: true\n  apps:\n    - name: grafana\n${fields}`;

test('the app service is off by default and on with app_service.enabled or --roles=...,app', () => {
  const plain = parseConfig('', 'c.yaml');
  assert.equal(plain.app_service.enabled, false);
  assert.equal(plain.app_service.listen_addr, '127.0.0.1:3082');
  assert.deepEqual(plain.app_service.apps, []);
  const roles = loadConfig(undefined, { roles: 'app', authServer: 'auth.example:3025', dataDir: '/tmp/x' });
  assert.deepEqual(
    [roles.auth.enabled, roles.proxy.enabled, roles.node.enabled, roles.db_service.enabled, roles.app_service.enabled],
    [false, false, false, false, true],
  );
  const all = loadConfig(undefined, { roles: 'auth,proxy,node,app', dataDir: '/tmp/x' });
  assert.deepEqual([all.auth.enabled, all.db_service.enabled, all.app_service.enabled], [true, false, true]);
  assert.throws(() => loadConfig(undefined, { roles: 'apps', dataDir: '/tmp/x' }), /unknown role "apps".*db, app/);
});

test('configured apps become kind "app" resources with every field', () => {
  const cfg = parseConfig(
    app(
      [
        '      description: Dashboards',
        '      labels: {env: prod}',
        '      uri: http://127.0.0.1:3000/grafana',
        '      public_addr: grafana.example.com',
        '      rewrite: {headers: [{name: X-Env, value: prod}]}',
        '      insecure_skip_verify: false',
        '    - name: redis',
        '      uri: tcp://127.0.0.1:6379',
        '',
      ].join('\n'),
    ),
    'c.yaml',
  );
  assert.deepEqual(cfg.app_service.apps, [
    {
      kind: 'app',
      version: 'v3',
      metadata: { name: 'grafana', description: 'Dashboards', labels: { env: 'prod' } },
      spec: {
        uri: 'http://127.0.0.1:3000/grafana',
        public_addr: 'grafana.example.com',
        rewrite: { headers: [{ name: 'X-Env', value: 'prod' }] },
        insecure_skip_verify: false,
      },
    },
    { kind: 'app', version: 'v3', metadata: { name: 'redis' }, spec: { uri: 'tcp://127.0.0.1:6379' } },
  ]);
  assert.deepEqual(configuredAppAsResource({ name: 'a', uri: 'http://h:1' }), {
    kind: 'app',
    version: 'v3',
    metadata: { name: 'a' },
    spec: { uri: 'http://h:1' },
  });
});

test('bad apps are refused naming the config field and its line', () => {
  assert.throws(
    () => parseConfig(app('      uri: tcp://127.0.0.1\n'), 'c.yaml'),
    /c\.yaml: app_service\.apps\.0\.uri: "tcp:\/\/127\.0\.0\.1" has no port: tcp apps need one.*\(line 5\)/,
  );
  assert.throws(
    () => parseConfig(app('      uri: ftp://h:21\n'), 'c.yaml'),
    /app_service\.apps\.0\.uri: scheme "ftp" is not supported/,
  );
  assert.throws(
    () => parseConfig(app('      uri: http://h:1\n      rewrite: {headers: [{name: Host, value: x}]}\n'), 'c.yaml'),
    /app_service\.apps\.0\.rewrite\.headers\.0\.name: Host may not be rewritten/,
  );
  assert.throws(
    () => parseConfig(app('      uri: http://h:1\n      rewrite: {headers: [{nam: X, value: x}]}\n'), 'c.yaml'),
    /app_service\.apps\.0\.rewrite\.headers\.0\.nam: unknown field/,
  );
  assert.throws(
    () => parseConfig(app('      uri: http://h:1\n      url: http://h:2\n'), 'c.yaml'),
    /app_service\.apps\.0\.url: unknown field \(line 6\)/,
  );
  assert.throws(
    () => parseConfig(app('      uri: http://h:1\n      labels: [a]\n'), 'c.yaml'),
    /app_service\.apps\.0\.labels/,
  );
  assert.throws(
    () => parseConfig('app_service:\n  apps:\n    - name: Grafana!\n      uri: http://h:1\n', 'c.yaml'),
    /app_service\.apps\.0\.name: "Grafana!" is not a valid name/,
  );
  assert.throws(
    () => parseConfig(app('      uri: http://h:1\n    - name: grafana\n      uri: http://h:2\n'), 'c.yaml'),
    /app_service\.apps\.1\.name: "grafana" is listed twice/,
  );
  assert.throws(
    () => parseConfig('app_service: {listen_addr: nope}\n', 'c.yaml'),
    /app_service\.listen_addr: expected HOST:PORT/,
  );
  assert.throws(() => parseConfig('app_service: {enable: true}\n', 'c.yaml'), /app_service\.enable: unknown field/);
});
