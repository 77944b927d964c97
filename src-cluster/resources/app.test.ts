import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDefaultRegistry, isApp } from './kinds.ts';
import { parseResources } from './parse.ts';
import { toText } from './print.ts';
import {
  APP_SERVICE_LABEL,
  appKindOf,
  appServedBy,
  appUpstream,
  appUriProblem,
  MAX_REWRITE_HEADERS,
  newApp,
} from './app.ts';

const registry = createDefaultRegistry();

const doc = (spec: string, metadata = '{name: grafana, labels: {env: prod}}') =>
  `kind: app\nversion: v3\nmetadata: ${metadata}\nspec:\n${spec}`;

test('an app parses with uri, public_addr, rewrite headers and labels, and prints as a table', () => {
  const [app] = parseResources(
    doc(
      '  uri: http://127.0.0.1:3000\n  public_addr: grafana.example.com\n  rewrite:\n    headers:\n      - {name: X-Env, value: prod}\n  insecure_skip_verify: false\n',
      '{name: grafana, description: Dashboards, labels: {env: prod}}',
    ),
    registry,
  );
  assert.ok(app && isApp(app));
  assert.deepEqual(app.spec.rewrite?.headers, [{ name: 'X-Env', value: 'prod' }]);
  assert.equal(app.metadata.description, 'Dashboards');
  const pg = newApp('pg', { uri: 'tcp://[::1]:5432' }, { labels: { env: 'dev', team: 'a' } });
  assert.equal(
    toText([app, pg], registry),
    'NAME     KIND  URI                    PUBLIC_ADDR          LABELS\n' +
      'grafana  http  http://127.0.0.1:3000  grafana.example.com  env=prod\n' +
      'pg       tcp   tcp://[::1]:5432                            env=dev,team=a\n',
  );
  assert.equal(registry.find('apps')?.kind, 'app');
  assert.equal(appKindOf(pg), 'tcp');
});

test('bad app fields are refused naming the field and the line', () => {
  const cases: Array<[string, RegExp]> = [
    ['  uri: ftp://h:21\n', /spec\.uri: scheme "ftp" is not supported/],
    ['  uri: h:3000\n', /spec\.uri: "h:3000" has no scheme/],
    ['  uri: tcp://db1\n', /spec\.uri: "tcp:\/\/db1" has no port: tcp apps need one/],
    ['  uri: tcp://db1:5432/x\n', /spec\.uri: a tcp uri has no path/],
    ['  uri: http://h:99999\n', /spec\.uri: "http:\/\/h:99999" is not a URL/],
    ['  uri: http://u:p@h:1\n', /spec\.uri: user names and passwords do not belong/],
    ['  uri: http://h:1/?a=1\n', /spec\.uri: a query string or fragment/],
    ['  public_addr: x\n', /spec\.uri: required field is missing/],
    ['  uri: http://h\n  url: http://h\n', /spec\.url: unknown field; allowed fields: uri, public_addr, rewrite/],
    [
      '  uri: http://h\n  rewrite:\n    headers:\n      - {nam: X-A, value: b}\n',
      /spec\.rewrite\.headers\[0\]\.nam: unknown field; allowed fields: name, value \(line 8\)/,
    ],
    [
      '  uri: http://h\n  rewrite: {headers: [{name: host, value: b}]}\n',
      /headers\[0\]\.name: host may not be rewritten/,
    ],
    [
      '  uri: http://h\n  rewrite: {headers: [{name: Gatehouse-Jwt-Assertion, value: b}]}\n',
      /headers\[0\]\.name: Gatehouse-Jwt-Assertion may not be rewritten/,
    ],
    ['  uri: http://h\n  rewrite: {headers: [{name: Transfer-Encoding, value: chunked}]}\n', /may not be rewritten/],
    ['  uri: http://h\n  rewrite: {headers: [{name: "a b", value: b}]}\n', /"a b" is not an HTTP header name/],
    ['  uri: http://h\n  rewrite: {headers: [{name: X-A, value: "a\\r\\nb: c"}]}\n', /may not contain line breaks/],
    [
      '  uri: http://h\n  rewrite: {headers: [{name: X-A, value: a}, {name: x-a, value: b}]}\n',
      /headers\[1\]\.name: header x-a is listed twice/,
    ],
    ['  uri: http://h\n  insecure_skip_verify: yes please\n', /spec\.insecure_skip_verify: expected true or false/],
    ['  uri: http://h\n  public_addr: "a b"\n', /spec\.public_addr: expected a host name or host:port/],
  ];
  for (const [spec, message] of cases) assert.throws(() => parseResources(doc(spec), registry), message, spec);
  const many = Array.from({ length: MAX_REWRITE_HEADERS + 1 }, (_, i) => `{name: X-${i}, value: v}`).join(', ');
  assert.throws(
    () => parseResources(doc(`  uri: http://h\n  rewrite: {headers: [${many}]}\n`), registry),
    /spec\.rewrite\.headers: at most 32 headers allowed/,
  );
  assert.throws(
    () => parseResources(doc('  uri: http://h\n').replace('v3', 'v2'), registry),
    /app version "v2" is not supported; supported: v3/,
  );
});

test('the upstream of a uri: default ports, IPv6 hosts, path prefixes', () => {
  assert.deepEqual(appUpstream('http://127.0.0.1:3000'), {
    scheme: 'http',
    host: '127.0.0.1',
    port: 3000,
    pathPrefix: '',
    hostHeader: '127.0.0.1:3000',
  });
  assert.deepEqual(appUpstream('https://grafana.internal/base/'), {
    scheme: 'https',
    host: 'grafana.internal',
    port: 443,
    pathPrefix: '/base',
    hostHeader: 'grafana.internal:443',
  });
  assert.deepEqual(appUpstream('tcp://[::1]:5432'), {
    scheme: 'tcp',
    host: '::1',
    port: 5432,
    pathPrefix: '',
    hostHeader: '[::1]:5432',
  });
  assert.equal(appUriProblem('HTTP://h:80/x'), undefined);
});

test('a configured app is served by its own app service only, a dynamic one by every app service', () => {
  const dynamic = newApp('wiki', { uri: 'http://h' });
  const configured = newApp('grafana', { uri: 'http://h' }, { labels: { [APP_SERVICE_LABEL]: 'app-1' } });
  assert.equal(appServedBy(dynamic, 'app-2'), true);
  assert.equal(appServedBy(configured, 'app-1'), true);
  assert.equal(appServedBy(configured, 'app-2'), false);
});
