// `gatectl devices` and the generic get/edit/rm paths for devices against a real daemon.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestCluster } from './harness.ts';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

describe('device inventory through gatectl', () => {
  const cluster = new TestCluster();
  before(() => cluster.start());
  after(() => cluster.destroy());

  const editor = (name: string, script: string) => {
    const p = join(cluster.dir, name);
    writeFileSync(p, `#!/bin/sh\n${script}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  const tokenOf = (stdout: string) => /^ {2}(\S{20,})$/m.exec(stdout)?.[1];

  let deviceId = '';

  test('add --enroll registers the device and prints a token with its expiry', () => {
    const r = cluster.gatectl(['devices', 'add', '--asset-tag', 'SN-100', '--os', 'linux', '--enroll']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Device "SN-100"\/linux added$/m);
    deviceId = new RegExp(`Device ID: (${UUID.source})`).exec(r.stdout)?.[1] ?? '';
    assert.ok(deviceId, r.stdout);
    const expires = /expires at (\S+)\)/.exec(r.stdout)?.[1];
    assert.ok(expires, r.stdout);
    const ttl = Date.parse(expires) - Date.now();
    assert.ok(ttl > 55 * 60_000 && ttl <= 60 * 60_000, `token should live about 1 h, got ${ttl} ms`);
    assert.ok(tokenOf(r.stdout), r.stdout);
  });

  test('ls shows the row; a second add of the same tag and OS fails clearly', () => {
    let r = cluster.gatectl(['devices', 'ls']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.split('\n')[0]!, /^Asset Tag\s+OS\s+Enroll Status\s+Device ID$/);
    assert.match(r.stdout, new RegExp(`^SN-100\\s+linux\\s+not_enrolled\\s+${deviceId}$`, 'm'));
    r = cluster.gatectl(['devices', 'add', '--asset-tag', 'SN-100', '--os', 'linux']);
    assert.equal(r.status, 6, r.stderr);
    assert.match(r.stderr, new RegExp(`ERROR: device "SN-100"/linux already exists \\(id ${deviceId}\\)`));
    assert.equal(cluster.gatectl(['devices', 'ls']).stdout.match(/SN-100/g)?.length, 1);
  });

  test('an unknown --os lists the allowed values', () => {
    const r = cluster.gatectl(['devices', 'add', '--asset-tag', 'SN-101', '--os', 'beos']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /ERROR: unknown OS "beos"; allowed: linux, macos, windows/);
  });

  test('enroll issues a new token by asset tag or id', () => {
    const first = cluster.gatectl(['devices', 'enroll', '--asset-tag', 'SN-100']);
    assert.equal(first.status, 0, first.stderr);
    const second = cluster.gatectl(['devices', 'enroll', '--device-id', deviceId]);
    assert.equal(second.status, 0, second.stderr);
    assert.ok(tokenOf(first.stdout) && tokenOf(second.stdout));
    assert.notEqual(tokenOf(first.stdout), tokenOf(second.stdout));
    const missing = cluster.gatectl(['devices', 'enroll', '--asset-tag', 'NOPE']);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /no device with id or asset tag "NOPE"/);
    const both = cluster.gatectl(['devices', 'enroll']);
    assert.match(both.stderr, /needs exactly one of --asset-tag T or --device-id ID/);
  });

  test('get device/<tag> prints YAML; edit to not_enrolled clears the credential', () => {
    let r = cluster.gatectl(['get', 'device/SN-100']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`kind: device\nversion: v1\nmetadata:\n  name: ${deviceId}`));
    assert.match(r.stdout, /asset_tag: SN-100\n {2}os_type: linux\n {2}enroll_status: not_enrolled/);
    assert.match(cluster.gatectl(['get', `device/${deviceId}`]).stdout, /asset_tag: SN-100/);

    const enroll = editor(
      'enroll.sh',
      'sed -i "s/enroll_status: not_enrolled/enroll_status: enrolled/" "$1"\n' +
        'printf "  credential: {id: cred-1, public_key: AAEA, attestation_type: ekpub}\\n" >> "$1"',
    );
    r = cluster.gatectl(['edit', 'device/SN-100'], undefined, { EDITOR: enroll });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`device "${deviceId}" has been updated`));
    r = cluster.gatectl(['get', 'device/SN-100']);
    assert.match(r.stdout, /enroll_status: enrolled/);
    assert.match(r.stdout, /id: cred-1/);

    const unenroll = editor('unenroll.sh', 'sed -i "s/enroll_status: enrolled/enroll_status: not_enrolled/" "$1"');
    r = cluster.gatectl(['edit', 'device/SN-100'], undefined, { EDITOR: unenroll });
    assert.equal(r.status, 0, r.stderr);
    r = cluster.gatectl(['get', 'device/SN-100']);
    assert.match(r.stdout, /enroll_status: not_enrolled/);
    assert.doesNotMatch(r.stdout, /credential|cred-1/);
  });

  test('rm removes the device', () => {
    let r = cluster.gatectl(['devices', 'rm', '--asset-tag', 'SN-100']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Device "SN-100"/linux removed \\(id ${deviceId}\\)`));
    r = cluster.gatectl(['devices', 'ls']);
    assert.doesNotMatch(r.stdout, /SN-100/);
    r = cluster.gatectl(['get', 'device/SN-100']);
    assert.equal(r.status, 3);
  });
});
