// gatectl against a real daemon: resources, users, and every bad-input case with its message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { TestCluster } from './harness.ts';

describe('gatectl against a running cluster', () => {
  const cluster = new TestCluster();
  before(() => cluster.start());
  after(() => cluster.destroy());

  const file = (name: string, text: string) => {
    const p = join(cluster.dir, name);
    writeFileSync(p, text);
    return p;
  };

  test('the admin identity file is private and the status names the cluster and its CAs', () => {
    assert.equal(statSync(join(cluster.dataDir, 'admin-identity.json')).mode & 0o777, 0o600);
    const r = cluster.gatectl(['status']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Cluster:\s+it/);
    for (const t of ['ssh_user', 'ssh_host', 'tls_user', 'tls_host'])
      assert.match(r.stdout, new RegExp(`${t}\\s+SHA256:`));
  });

  test('create, get (yaml/json/text), update with --force and rm a role', () => {
    const role = file(
      'dev.yaml',
      [
        'kind: role',
        'version: v7',
        'metadata:',
        '  name: dev',
        'spec:',
        '  allow:',
        '    logins: [dev, "{{internal.logins}}"]',
        '    node_labels:',
        '      env: test',
        '  options:',
        '    max_session_ttl: 2h',
        '',
      ].join('\n'),
    );
    let r = cluster.gatectl(['create', '-f', role]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /role "dev" has been created/);
    r = cluster.gatectl(['create', '-f', role]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /role "dev" already exists/);
    r = cluster.gatectl(['create', '-f', role, '--force']);
    assert.match(r.stdout, /role "dev" has been updated/);
    r = cluster.gatectl(['get', 'role/dev']);
    assert.match(r.stdout, /kind: role\nversion: v7\nmetadata:\n {2}name: dev/);
    assert.match(r.stdout, /max_session_ttl: 2h/);
    r = cluster.gatectl(['get', 'role/dev', '--format', 'json']);
    assert.deepEqual(JSON.parse(r.stdout).spec.allow.node_labels, { env: 'test' });
    r = cluster.gatectl(['get', 'roles', '--format', 'text']);
    assert.match(r.stdout.split('\n')[0]!, /^NAME/);
    assert.match(r.stdout, /^dev\s/m);
    r = cluster.gatectl(['rm', 'role/dev']);
    assert.equal(r.status, 0, r.stderr);
    r = cluster.gatectl(['get', 'role/dev']);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /ERROR: role "dev" not found/);
  });

  test('bad input names the field and line, lists alternatives, and saves nothing', () => {
    const cases: [string, RegExp][] = [
      [
        'kind: role\nversion: v7\nmetadata:\n  name: a\nspec:\n  alow:\n    logins: [x]\n',
        /role "a": spec\.alow: unknown field.*\(line 6\)/,
      ],
      [
        'kind: role\nversion: v7\nmetadata:\n  name: b\nspec:\n  allow:\n    logins: root\n',
        /role "b": spec\.allow\.logins: expected a list of strings \(line 7\)/,
      ],
      [
        'kind: rol\nversion: v7\nmetadata:\n  name: c\nspec: {}\n',
        /unknown kind "rol"; known kinds: app, cluster_auth_preference, db, device, lock, role, user/,
      ],
      [
        'kind: role\nversion: v6\nmetadata:\n  name: d\nspec: {}\n',
        /role version "v6" is not supported; supported: v7/,
      ],
      ['kind: role\nversion: v7\nmetadata:\n  name: e\n spec: [\n', /line \d/],
      [
        'kind: role\nversion: v7\nmetadata:\n  name: f\nspec:\n  options:\n    max_session_ttl: forever\n',
        /max_session_ttl.*\(line 7\)/,
      ],
    ];
    for (const [i, [yaml, re]] of cases.entries()) {
      const r = cluster.gatectl(['create', '-f', file(`bad${i}.yaml`, yaml)]);
      assert.equal(r.status, 2, `case ${i}: ${r.stderr}`);
      assert.match(r.stderr, re, `case ${i}`);
    }
    // A valid first document does not get saved when a later one is broken.
    const multi =
      'kind: role\nversion: v7\nmetadata:\n  name: ok1\nspec: {}\n---\nkind: role\nversion: v7\nmetadata:\n  name: bad2\nspec:\n  allow: 3\n';
    const r = cluster.gatectl(['create', '-f', file('multi.yaml', multi)]);
    assert.equal(r.status, 2);
    assert.equal(cluster.gatectl(['get', 'role/ok1']).status, 3, 'nothing saved');
    const unknown = cluster.gatectl(['get', 'rol']);
    assert.match(
      unknown.stderr,
      /unknown kind "rol"; known kinds: app, cluster_auth_preference, db, device, lock, role, user/,
    );
  });

  test('users add prints a one-time token, users ls lists, rm removes', () => {
    let r = cluster.gatectl(['users', 'add', 'carol', '--roles=access', '--logins=carol,root']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /one-time token/);
    assert.match(r.stdout, /gate set-password --proxy <proxy address>\n/);
    r = cluster.gatectl(['users', 'ls']);
    assert.match(r.stdout, /^carol\s+access\s+carol,root$/m);
    r = cluster.gatectl(['users', 'add', 'dave', '--roles=access', '--password-stdin'], 'short\n');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /password too short/);
    assert.equal(cluster.gatectl(['get', 'user/dave']).status, 3, 'a refused password leaves no user behind');
    r = cluster.gatectl(['users', 'add', 'erin', '--roles=access']);
    r = cluster.gatectl(['users', 'add', 'erin', '--roles=access']);
    assert.match(r.stderr, /user "erin" already exists/);
    assert.equal(cluster.gatectl(['rm', 'user/carol']).status, 0);
    assert.doesNotMatch(cluster.gatectl(['users', 'ls']).stdout, /carol/);
  });

  test('edit applies a change, keeps an unchanged file as is, and refuses invalid edits', () => {
    const editor = join(cluster.dir, 'editor.sh');
    writeFileSync(
      editor,
      '#!/bin/sh\nsed -i "s/max_session_ttl: .*/max_session_ttl: 30m/; s/^  name: access$/  name: access/" "$1"\ngrep -q max_session_ttl "$1" || printf "  options:\\n    max_session_ttl: 30m\\n" >> "$1"\n',
    );
    chmodSync(editor, 0o755);
    let r = cluster.gatectl(['edit', 'role/access'], undefined, { EDITOR: editor });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /role "access" has been updated/);
    assert.match(cluster.gatectl(['get', 'role/access']).stdout, /max_session_ttl: 30m/);
    r = cluster.gatectl(['edit', 'role/access'], undefined, { EDITOR: 'true' });
    assert.match(r.stdout, /unchanged; nothing to do/);
    const breaker = join(cluster.dir, 'breaker.sh');
    writeFileSync(breaker, '#!/bin/sh\nsed -i "s/max_session_ttl: .*/max_session_ttl: soon/" "$1"\n');
    chmodSync(breaker, 0o755);
    r = cluster.gatectl(['edit', 'role/access'], undefined, { EDITOR: breaker });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /max_session_ttl/);
    assert.match(cluster.gatectl(['get', 'role/access']).stdout, /max_session_ttl: 30m/, 'invalid edit saved nothing');
  });

  test('without the admin identity gatectl says how to find it', () => {
    const r = cluster.gatectl(['status', '--data-dir', join(cluster.dir, 'nowhere')]);
    assert.equal(r.status, 4);
    assert.match(r.stderr, /admin identity .*not found\. Is "gatehouse start" running/);
  });
});
