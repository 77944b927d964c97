// The cluster auth preference against a real daemon: gatectl get/create/edit/rm with the exact
// messages, live effect of second_factor without a restart, Ping and Login reporting device trust,
// and the require-trusted-device preset role after the first start and after a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatAuthorizedKey, publicKeyToWire } from '../../src-shared/sshcert/index.ts';
import { adminClient } from '../cli/admin-client.ts';
import { TestCluster } from './harness.ts';

const CAP_HEAD = 'kind: cluster_auth_preference\nversion: v2\nmetadata:\n  name: cluster-auth-preference\n';

describe('cluster auth preference on a running cluster', () => {
  const cluster = new TestCluster();
  before(() => cluster.start());
  after(() => cluster.destroy());

  const file = (name: string, text: string) => {
    const p = join(cluster.dir, name);
    writeFileSync(p, text);
    return p;
  };
  const api = () => adminClient({ dataDir: cluster.dataDir });
  const setCap = (spec: string) => {
    const r = cluster.gatectl(['create', '-f', file(`cap-${Math.random()}.yaml`, `${CAP_HEAD}spec:\n${spec}`)]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'cluster auth preference has been updated\n');
  };
  /** Login straight through the API, to read the response fields a client gets. */
  const login = (user: string, password: string) => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return api().login({
      user,
      password,
      otp: '',
      publicKey: formatAuthorizedKey(publicKeyToWire(publicKey)),
      ttlSeconds: 600n,
    });
  };

  test('first start: the preference comes from the config file and Ping reports its device trust', async () => {
    const r = cluster.gatectl(['get', 'cluster_auth_preference']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^kind: cluster_auth_preference\nversion: v2\nmetadata:\n {2}name: cluster-auth-preference\n/,
    );
    assert.match(r.stdout, /gatehouse\.dev\/origin: config/);
    assert.match(r.stdout, /second_factor: "?off"?\n/);
    assert.match(r.stdout, /device_trust:\n {4}mode: optional\n {4}auto_enroll: false\n {4}ekcert_allowed_cas: \[\]/);
    assert.equal(cluster.gatectl(['get', 'cap']).stdout, r.stdout);
    const ping = await api().ping({});
    assert.deepEqual(
      { mode: ping.deviceTrust?.mode, autoEnroll: ping.deviceTrust?.autoEnroll },
      {
        mode: 'optional',
        autoEnroll: false,
      },
    );
  });

  test('the require-trusted-device preset exists from the first start', () => {
    const r = cluster.gatectl(['get', 'role/require-trusted-device', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const role = JSON.parse(r.stdout) as { spec: unknown };
    assert.deepEqual(role.spec, {
      allow: { logins: ['{{internal.logins}}'], node_labels: { '*': '*' } },
      options: { device_trust_mode: 'required' },
    });
  });

  test('create -f replaces it without --force; Ping and Login follow at once', async () => {
    setCap('  device_trust:\n    mode: required-for-humans\n    auto_enroll: true\n');
    const ping = await api().ping({});
    assert.equal(ping.deviceTrust?.mode, 'required-for-humans');
    assert.equal(ping.deviceTrust?.autoEnroll, true);
    const got = cluster.gatectl(['get', 'cap']).stdout;
    assert.match(got, /gatehouse\.dev\/origin: dynamic/);

    const human = cluster.addUser('human1', ['access']);
    const bot = cluster.addUser('bot1', ['access']);
    const botYaml = cluster.gatectl(['get', 'user/bot1']).stdout.replace('spec:\n', 'spec:\n  is_bot: true\n');
    let r = cluster.gatectl(['create', '-f', file('bot.yaml', botYaml), '--force']);
    assert.equal(r.status, 0, r.stderr);
    r = cluster.gatectl(['users', 'ls']);
    assert.match(r.stdout, /^bot1\s+access\s+\S+\s+yes$/m);

    let res = await login(human.name, human.password);
    assert.deepEqual([res.deviceTrustMode, res.deviceTrustRequired], ['required-for-humans', true]);
    res = await login(bot.name, bot.password);
    assert.deepEqual([res.deviceTrustMode, res.deviceTrustRequired], ['required-for-humans', false]);

    // Under optional only a role can require it: the preset does, access does not.
    setCap('  device_trust:\n    mode: optional\n');
    res = await login(human.name, human.password);
    assert.deepEqual([res.deviceTrustMode, res.deviceTrustRequired], ['optional', false]);
    const strict = cluster.addUser('strict1', ['access', 'require-trusted-device']);
    res = await login(strict.name, strict.password);
    assert.deepEqual([res.deviceTrustMode, res.deviceTrustRequired], ['optional', true]);
    const who = await api().whoAmI({});
    assert.equal(who.deviceTrustMode, 'optional');
    assert.equal(who.deviceId, '');
  });

  test('second_factor changes take effect without a restart', async () => {
    setCap('  second_factor: off\n');
    const u = cluster.addUser('otpuser', ['access']);
    const gateLogin = () =>
      cluster.gate(
        ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', u.name, '--password-stdin'],
        `${u.password}\n`,
      );
    let r = gateLogin();
    assert.equal(r.status, 0, r.stderr);

    setCap('  second_factor: otp\n');
    r = gateLogin();
    assert.notEqual(r.status, 0, 'login without a one-time code must fail once OTP is required');
    // gate reads the second factor from Ping; the server refuses too, whatever the client thinks.
    assert.match(r.stderr, /cluster "it" requires a one-time code; pass it with --otp/);
    await assert.rejects(login(u.name, u.password), /invalid user name, password or one-time code/);
    // New passwords now come with an OTP enrollment.
    r = cluster.gatectl(['users', 'add', 'otpuser2', '--roles=access', '--password-stdin'], 'pw-otpuser2-123456\n');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /One-time password \(TOTP\) enrollment URI/);

    setCap('  second_factor: off\n');
    r = gateLogin();
    assert.equal(r.status, 0, r.stderr);
  });

  test('bad input is refused with the field and allowed values, and nothing changes', () => {
    const before = cluster.gatectl(['get', 'cap']).stdout;
    const cases: [string, RegExp][] = [
      [
        `${CAP_HEAD}spec:\n  device_trust:\n    mode: strict\n`,
        /spec\.device_trust\.mode: expected one of: off, optional, required, required-for-humans \(line 7\)/,
      ],
      [
        CAP_HEAD.replace('v2', 'v1') + 'spec: {}\n',
        /cluster_auth_preference version "v1" is not supported; supported: v2/,
      ],
      [
        `${CAP_HEAD}spec:\n  second_factr: otp\n`,
        /spec\.second_factr: unknown field; allowed fields: type, second_factor, device_trust/,
      ],
      [
        `${CAP_HEAD}spec:\n  device_trust:\n    ekcert_allowed_cas: [nope]\n`,
        /spec\.device_trust\.ekcert_allowed_cas\[0\]: expected one PEM certificate/,
      ],
      [
        CAP_HEAD.replace('name: cluster-auth-preference', 'name: mine') + 'spec: {}\n',
        /is a singleton: metadata\.name must be "cluster-auth-preference"/,
      ],
    ];
    for (const [yaml, expected] of cases) {
      const r = cluster.gatectl(['create', '-f', file(`bad-${Math.random()}.yaml`, yaml)]);
      assert.notEqual(r.status, 0, yaml);
      assert.match(r.stderr, expected);
    }
    assert.equal(cluster.gatectl(['get', 'cap']).stdout, before);
  });

  test('edit needs no name and says the preference has been updated', () => {
    // A non-interactive "editor" that changes the mode in the file it is given.
    const editor = file('editor.sh', '#!/bin/sh\nsed -i "s/mode: optional/mode: required/" "$1"\n');
    chmodSync(editor, 0o755);
    const r = cluster.gatectl(['edit', 'cluster_auth_preference'], '', { EDITOR: editor, VISUAL: '' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'cluster auth preference has been updated\n');
    assert.match(cluster.gatectl(['get', 'cap']).stdout, /mode: required\n/);
  });

  test('rm resets it to the config file and a restart keeps the preset and the reset', async () => {
    setCap('  device_trust:\n    mode: off\n');
    let r = cluster.gatectl(['rm', 'cap']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "cluster auth preference has been reset to the config file's settings\n");
    r = cluster.gatectl(['get', 'cap']);
    assert.match(r.stdout, /gatehouse\.dev\/origin: config/);
    assert.match(r.stdout, /mode: optional/);

    // An admin edit of the preset survives a restart: presets are created only when missing.
    const preset = cluster.gatectl(['get', 'role/require-trusted-device']).stdout;
    const edited = preset
      .replace(/node_labels:\n(\s+)"\*": "\*"/, 'node_labels:\n$1env: prod')
      .replace(/'\*': '\*'/, 'env: prod');
    assert.notEqual(edited, preset);
    r = cluster.gatectl(['create', '-f', file('preset.yaml', edited), '--force']);
    assert.equal(r.status, 0, r.stderr);
    await cluster.stop();
    await cluster.start();
    r = cluster.gatectl(['get', 'role/require-trusted-device', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const spec = (JSON.parse(r.stdout) as { spec: { allow: { node_labels: unknown }; options: unknown } }).spec;
    assert.deepEqual(spec.allow.node_labels, { env: 'prod' });
    assert.deepEqual(spec.options, { device_trust_mode: 'required' });
    assert.equal((await api().ping({})).deviceTrust?.mode, 'optional');
  });
});
