// The device trust lifecycle as a user and an administrator live it, with the real binaries: a
// real cluster (`gatehouse start`), a throwaway swtpm as this machine's TPM, `gatectl devices add
// --enroll` for the token, `gate device enroll`, then `gate login` twice, each time checking that
// the stored SSH certificate (read by ssh-keygen) and X.509 certificate carry the device fields.
// Needs the TPM addon built, swtpm + tpm2-tools and ssh-keygen; fails saying so otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ClusterProcess, type ClusterUser } from '../../../test-support/cluster-process.ts';
import { startSwtpm, type Swtpm } from '../../../test-support/swtpm.ts';

const OID_DEVICE_ID = '1.3.6.1.4.1.59999.1.2';
const OID_DEVICE_ASSET_TAG = '1.3.6.1.4.1.59999.1.3';
const OID_DEVICE_CREDENTIAL_ID = '1.3.6.1.4.1.59999.1.4';

function requireSshKeygen(): void {
  const r = spawnSync('ssh-keygen', ['-?'], { encoding: 'utf8' });
  if (r.error) throw new Error('ssh-keygen not found; install the Debian package openssh-client');
}

describe('device enrollment, then device-trusted logins (swtpm + real cluster)', () => {
  const cluster = new ClusterProcess({ clusterName: 'devtrust' });
  let tpm: Swtpm;
  let user: ClusterUser;
  let env: Record<string, string>;
  let assetTag = '';
  let token = '';
  let credentialId = '';
  let deviceId = '';

  const profileDir = () => join(cluster.home, 'profiles', cluster.proxyAddr.replace(':', '_'), user.name);
  const login = () =>
    cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', user.name, '--password-stdin'],
      user.password + '\n',
      env,
    );

  /** The device fields of the stored login as ssh-keygen and an X.509 parser see them. */
  function storedDeviceFields() {
    const r = spawnSync('ssh-keygen', ['-L', '-f', join(profileDir(), 'key-cert.pub')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const sshExt = (name: string) => new RegExp(`^\\s+${name}\\b.*$`, 'm').exec(r.stdout)?.[0];
    const cert = new x509.X509Certificate(readFileSync(join(profileDir(), 'tls.crt'), 'utf8'));
    const oid = (o: string) => {
      const e = cert.getExtension(o);
      return e ? Buffer.from(e.value).toString('utf8') : undefined;
    };
    return {
      sshText: r.stdout,
      ssh: {
        id: sshExt('gatehouse-device-id'),
        tag: sshExt('gatehouse-device-asset-tag'),
        cred: sshExt('gatehouse-device-credential-id'),
      },
      tls: { id: oid(OID_DEVICE_ID), tag: oid(OID_DEVICE_ASSET_TAG), cred: oid(OID_DEVICE_CREDENTIAL_ID) },
    };
  }

  before(async () => {
    requireSshKeygen();
    tpm = await startSwtpm();
    env = { GATEHOUSE_TPM_TCTI: tpm.tcti };
    await cluster.start();
    user = cluster.addUser('alice', ['access']);
  });
  after(async () => {
    await cluster.destroy();
    await tpm?.stop();
  });

  test('the administrator registers this machine by the asset tag gate reports and gets a token', () => {
    const tag = cluster.gate(['device', 'asset-tag'], '', env);
    assert.equal(tag.status, 0, tag.stderr);
    assertMachineIdTag(tag.stdout.trim(), tag.stderr);
    assetTag = tag.stdout.trim();
    const add = cluster.gatectl(['devices', 'add', '--asset-tag', assetTag, '--os', 'linux', '--enroll']);
    assert.equal(add.status, 0, add.stderr);
    token = /^ {2}(\S{20,})$/m.exec(add.stdout)?.[1] ?? '';
    assert.ok(token, add.stdout);
  });

  test('enrolling needs a login first', () => {
    const r = cluster.gate(['device', 'enroll'], '', { ...env, GATEHOUSE_TOKEN: token });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /not logged in.*gate login/);
  });

  test('a login before enrollment is not device-trusted and the certificates carry no device fields', () => {
    const r = login();
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /this session is device-trusted/);
    const f = storedDeviceFields();
    assert.deepEqual(f.ssh, { id: undefined, tag: undefined, cred: undefined });
    assert.deepEqual(f.tls, { id: undefined, tag: undefined, cred: undefined });
  });

  test('gate device enroll (token from GATEHOUSE_TOKEN) enrolls the TPM, records it and trusts the login at once', () => {
    const r = cluster.gate(['device', 'enroll'], '', { ...env, GATEHOUSE_TOKEN: token });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${cluster.logs.slice(-3000)}`);
    assert.match(r.stdout, new RegExp(`^Device "${escape(assetTag)}"/linux enrolled$`, 'm'));
    // swtpm_setup put an EK certificate in NV; its CA is not configured as trusted here.
    assert.match(r.stdout, /^ {2}Attestation type: ekcert\b/m);
    deviceId = /^ {2}Device ID: +(\S+)$/m.exec(r.stdout)?.[1] ?? '';
    credentialId = /^ {2}Credential ID: +([0-9a-f]{64})$/m.exec(r.stdout)?.[1] ?? '';
    assert.ok(deviceId && credentialId, r.stdout);

    // Device authentication ran right after enrolling: this login is trusted without logging in again.
    assert.match(r.stderr, /^This login \(alice\) is now device-trusted; no need to log in again\.$/m);
    assert.deepEqual(storedDeviceFields().tls, { id: deviceId, tag: assetTag, cred: credentialId });

    const keyget = cluster.gate(['device', 'keyget', '--format', 'json'], '', env);
    assert.equal(JSON.parse(keyget.stdout).credential_id, credentialId, "the enrolled credential is this TPM's AK");
    const recordPath = join(cluster.home, 'device', 'enrollments.json');
    assert.equal(statSync(recordPath).mode & 0o777, 0o600);
    const records = JSON.parse(readFileSync(recordPath, 'utf8')).enrollments;
    assert.deepEqual(
      records.map((e: Record<string, string>) => [e.cluster, e.proxy, e.deviceId, e.assetTag, e.credentialId]),
      [['devtrust', cluster.proxyAddr, deviceId, assetTag, credentialId]],
    );

    const again = cluster.gate(['device', 'enroll'], '', { ...env, GATEHOUSE_TOKEN: token });
    assert.equal(again.status, 4, 'a spent token is refused');
    assert.match(again.stderr, /^ERROR: /m);
    assert.match(again.stderr, /ask your administrator for a new one/);
    assert.match(again.stderr, /an enroll token works once and this one was used/);
  });

  for (const which of ['first', 'second']) {
    test(`the ${which} login after enrollment is device-trusted, in both certificates`, () => {
      const r = login();
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${cluster.logs.slice(-3000)}`);
      assert.match(
        r.stdout,
        new RegExp(`^Device trust: this session is device-trusted \\(device "${escape(assetTag)}"/linux\\)$`, 'm'),
      );
      const f = storedDeviceFields();
      assert.match(f.ssh.id ?? '', sshExtValue('gatehouse-device-id', deviceId), f.sshText);
      assert.match(f.ssh.tag ?? '', sshExtValue('gatehouse-device-asset-tag', assetTag), f.sshText);
      assert.match(f.ssh.cred ?? '', sshExtValue('gatehouse-device-credential-id', credentialId), f.sshText);
      assert.deepEqual(f.tls, { id: deviceId, tag: assetTag, cred: credentialId });

      const status = cluster.gate(['status'], '', env);
      assert.match(
        status.stdout,
        new RegExp(`^ {2}Device trust: +device-trusted \\(device "${escape(assetTag)}"/linux, id ${deviceId}\\)$`, 'm'),
      );
      // The re-issued X.509 certificate works for the API (mTLS) like the one it replaced.
      const ls = cluster.gate(['ls'], '', env);
      assert.equal(ls.status, 0, ls.stderr);
      assert.match(ls.stdout, new RegExp(cluster.nodeName));
    });
  }

  test('a login whose TPM is gone still succeeds, saying why it is not device-trusted', () => {
    const r = cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', user.name, '--password-stdin'],
      user.password + '\n',
      { GATEHOUSE_TPM_TCTI: 'device:/nonexistent/tpmrm0' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Device trust: not device-trusted: .*\[TPM_UNAVAILABLE\]$/m);
    assert.match(r.stderr, /To fix it: .*gate device keyget/);
    assert.ok(existsSync(join(profileDir(), 'key')));
    assert.deepEqual(storedDeviceFields().tls, { id: undefined, tag: undefined, cred: undefined });
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** ssh-keygen prints an extension it does not know as the hex of its value wrapped as an SSH string. */
function sshExtValue(name: string, value: string): RegExp {
  const v = Buffer.from(value, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(v.length);
  return new RegExp(
    `^\\s+${name} UNKNOWN OPTION: ${Buffer.concat([len, v]).toString('hex')} \\(len ${v.length + 4}\\)$`,
  );
}

function assertMachineIdTag(tag: string, stderr: string): void {
  // These build machines have no DMI: the documented machine-id fallback.
  assert.match(tag, /^machine-id:[0-9a-f]{16}$/, `asset tag ${tag} (${stderr})`);
}
