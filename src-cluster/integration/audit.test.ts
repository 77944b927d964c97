// The audit log end to end on a real cluster with the real `gatectl` and `gate`: every event type
// this side records appears with its fields after the action that causes it, read back through
// `gatectl audit` (JSON Lines and the text table). The device-trusted parts use a real enrolled
// device (swtpm + `gate device enroll`), so session events carry trusted_device only for
// device-trusted certificates, and not at all once the cluster's device trust mode is off.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { TestCluster } from './harness.ts';
import { startSwtpm, type Swtpm } from '../../test-support/swtpm.ts';
import { BUILTIN_ADMIN_USER } from '../../src-shared/cert-fields.ts';

const LOGIN = userInfo().username;
const NODE = 'audit-node';
const ADMIN = BUILTIN_ADMIN_USER;
type Event = Record<string, unknown> & { id: string; type: string; code: string; user: string; success: boolean };

describe('audit log', () => {
  const cluster = new TestCluster({ clusterName: 'audit', nodeName: NODE });
  let tpm: Swtpm;
  let deviceId = '';
  let assetTag = '';
  const home = (who: string) => join(cluster.dir, `home-${who}`);
  const gateAs = (who: string, args: string[], input = '') =>
    cluster.gate(args, input, { GATEHOUSE_HOME: home(who), GATEHOUSE_TPM_TCTI: tpm.tcti });
  const login = (who: string, password = `${who}-password-1`) =>
    gateAs(
      who,
      ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', who, '--password-stdin'],
      `${password}\n`,
    );
  const ssh = (who: string, ...command: string[]) => gateAs(who, ['ssh', `${LOGIN}@${NODE}`, ...command]);
  const ok = (r: { status: number; stderr: string; stdout: string }) => {
    assert.equal(r.status, 0, r.stderr + r.stdout);
    return r;
  };
  /** Every event (oldest first) of a type, via gatectl audit's JSON Lines. */
  const audit = (...args: string[]): Event[] =>
    ok(cluster.gatectl(['audit', '--format', 'json', '--order', 'asc', '--limit', '5000', ...args]))
      .stdout.split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Event);
  /** Events of `type` written since `mark` (an earlier audit() length for that type). */
  const since = (type: string, mark: number) => audit('--type', type).slice(mark);
  const count = (type: string) => audit('--type', type).length;
  const setDeviceTrustMode = (mode: string) =>
    cluster.apply(
      `kind: cluster_auth_preference\nversion: v2\nmetadata: { name: cluster-auth-preference }\nspec:\n  device_trust: { mode: ${mode} }\n`,
    );

  before(async () => {
    tpm = await startSwtpm();
    await cluster.start();
    for (const [role, mode] of [
      ['auditors', ''],
      ['strict', 'required'],
    ] as const) {
      cluster.apply(
        `kind: role\nversion: v7\nmetadata: { name: ${role} }\nspec:\n  allow:\n    logins: [${LOGIN}]\n    node_labels: { '*': '*' }\n` +
          (mode ? `  options: { device_trust_mode: ${mode} }\n` : ''),
      );
    }
    for (const [who, role] of [
      ['alice', 'auditors'],
      ['bob', 'strict'],
    ] as const) {
      ok(
        cluster.gatectl(
          ['users', 'add', who, `--roles=${role}`, `--logins=${LOGIN}`, '--password-stdin'],
          `${who}-password-1\n`,
        ),
      );
    }
  });
  after(async () => {
    await cluster.destroy();
    await tpm?.stop();
  });

  test('user.login failure and success, then cert.create without device fields', () => {
    const r = login('alice', 'wrong-password-1');
    assert.notEqual(r.status, 0);
    const [failed] = audit('--type', 'user.login', '--user', 'alice');
    assert.equal(failed?.success, false);
    assert.equal(failed?.code, 'GH1000W');
    assert.equal(failed?.message, 'wrong password');
    assert.equal(failed?.method, 'password');
    assert.match(String(failed?.client_address), /^127\.0\.0\.1/);

    const certMark = count('cert.create');
    ok(login('alice'));
    const logins = audit('--type', 'user.login', '--user', 'alice');
    assert.deepEqual(
      logins.map((e) => [e.success, e.code]),
      [
        [false, 'GH1000W'],
        [true, 'GH1000I'],
      ],
    );
    const [cert, ...more] = since('cert.create', certMark);
    assert.equal(more.length, 0);
    assert.equal(cert?.user, 'alice');
    assert.equal(cert?.code, 'GH1001I');
    assert.deepEqual(cert?.roles, ['auditors']);
    assert.ok(Date.parse(String(cert?.expires)) > Date.now());
    assert.equal(cert?.trusted_device, undefined);
  });

  test('session.start and session.end for gate ssh, without trusted_device for a plain certificate', () => {
    const startMark = count('session.start');
    const endMark = count('session.end');
    assert.equal(ok(ssh('alice', 'echo', 'hi')).stdout, 'hi\n');
    const [start] = since('session.start', startMark);
    const [end] = since('session.end', endMark);
    assert.ok(start && end, 'both session events are recorded');
    for (const e of [start, end]) {
      assert.equal(e.user, 'alice');
      assert.equal(e.login, LOGIN);
      assert.equal(e.node, NODE);
      assert.equal(typeof e.client_address, 'string');
      assert.equal(e.trusted_device, undefined);
    }
    assert.equal(start.code, 'GH2000I');
    assert.equal(start.command, 'echo hi');
    assert.equal(end.code, 'GH2004I');
    assert.equal(end.session_id, start.session_id);
    assert.match(String(start.session_id), /^[0-9a-f-]{36}$/);
    assert.equal(end.exit_code, 0);
    assert.equal(typeof end.duration_ms, 'number');
  });

  test('access.denied when the node refuses an untrusted device', () => {
    ok(login('bob'));
    const mark = count('access.denied');
    const r = ssh('bob', 'true');
    assert.notEqual(r.status, 0);
    const [denied] = since('access.denied', mark);
    assert.equal(denied?.user, 'bob');
    assert.equal(denied?.success, false);
    assert.equal(denied?.code, 'GH2010W');
    assert.equal(denied?.reason, 'unauthorized device');
    assert.equal(denied?.login, LOGIN);
    assert.equal(denied?.node, NODE);
  });

  test('a lock denial is recorded once, by the authorizer, with the lock named; the lock itself too', () => {
    const mark = count('access.denied');
    const created = ok(cluster.gatectl(['lock', '--user=alice', '--message=audit check']));
    const lockName = /"([0-9a-f-]{36})"/.exec(created.stdout)?.[1];
    assert.ok(lockName, created.stdout);
    try {
      const r = ssh('alice', 'true');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /lock targeting User:"alice" is in force: audit check/);
    } finally {
      ok(cluster.gatectl(['rm', `lock/${lockName}`]));
    }
    const denials = since('access.denied', mark);
    assert.equal(denials.length, 1, JSON.stringify(denials));
    assert.equal(denials[0]?.user, 'alice');
    assert.equal(denials[0]?.reason, 'lock in force');
    assert.equal(denials[0]?.lock, lockName);
    assert.ok(audit('--type', 'lock.create').some((e) => e.success && JSON.stringify(e).includes(lockName)));
    assert.ok(audit('--type', 'lock.delete').some((e) => e.success && JSON.stringify(e).includes(lockName)));
  });

  test('device.create, device.token.create (ok and failing), device.enroll (failing and ok)', () => {
    assetTag = gateAs('alice', ['device', 'asset-tag']).stdout.trim();
    const added = ok(cluster.gatectl(['devices', 'add', '--asset-tag', assetTag, '--os', 'linux', '--enroll']));
    deviceId = /^Device ID: (\S+)$/m.exec(added.stdout)?.[1] ?? '';
    const token = /^ {2}(\S{20,})$/m.exec(added.stdout)?.[1];
    assert.ok(deviceId && token, added.stdout);
    const [created] = audit('--type', 'device.create');
    assert.deepEqual(
      [created?.user, created?.success, created?.device_id, created?.asset_tag, created?.os_type],
      [ADMIN, true, deviceId, assetTag, 'linux'],
    );
    const [tokenEvent] = audit('--type', 'device.token.create');
    assert.deepEqual([tokenEvent?.success, tokenEvent?.device_id], [true, deviceId]);

    const missing = cluster.gatectl(['devices', 'enroll', '--asset-tag', 'no-such-tag']);
    assert.notEqual(missing.status, 0);
    const failedToken = audit('--type', 'device.token.create').find((e) => !e.success);
    assert.equal(failedToken?.asset_tag, 'no-such-tag');
    assert.ok(String(failedToken?.message).length > 0, 'the failure carries its message');

    const bogus = gateAs('alice', ['device', 'enroll', '--token-stdin'], 'not-a-real-token-0123456789\n');
    assert.notEqual(bogus.status, 0);
    ok(gateAs('alice', ['device', 'enroll', '--token-stdin'], `${token}\n`));
    const enrolls = audit('--type', 'device.enroll');
    assert.deepEqual(
      enrolls.map((e) => [e.success, e.code]),
      [
        [false, 'GH6004W'],
        [true, 'GH6004I'],
      ],
      bogus.stderr,
    );
    assert.match(String(enrolls[0]?.message), /unknown or expired enroll token/);
    assert.equal(enrolls[1]?.device_id, deviceId);
    assert.equal(enrolls[1]?.asset_tag, assetTag);
    assert.match(String(enrolls[1]?.credential_id), /\S{16,}/);
  });

  test('device.authenticate and cert.create with trusted_device, then session events carry it', () => {
    const certMark = count('cert.create');
    const r = ok(login('alice'));
    assert.match(r.stdout + r.stderr, /this session is device-trusted/);
    const [auth] = audit('--type', 'device.authenticate');
    const credential = audit('--type', 'device.enroll').find((e) => e.success)?.credential_id;
    const trusted = { device_id: deviceId, asset_tag: assetTag, credential_id: credential };
    assert.deepEqual([auth?.success, auth?.code, auth?.device_id], [true, 'GH6005I', deviceId]);
    const certs = since('cert.create', certMark);
    assert.equal(certs.length, 2, 'the login certificate, then the device-trusted re-issue');
    assert.equal(certs[0]?.trusted_device, undefined);
    assert.deepEqual(certs[1]?.trusted_device, trusted);

    const startMark = count('session.start');
    const endMark = count('session.end');
    ok(ssh('alice', 'true'));
    assert.deepEqual(since('session.start', startMark)[0]?.trusted_device, trusted);
    assert.deepEqual(since('session.end', endMark)[0]?.trusted_device, trusted);

    // The same device-trusted certificate, but the cluster no longer does device trust.
    setDeviceTrustMode('off');
    const offMark = count('session.start');
    ok(ssh('alice', 'true'));
    const [offStart] = since('session.start', offMark);
    assert.ok(offStart);
    assert.equal(offStart.trusted_device, undefined);
    setDeviceTrustMode('optional');
  });

  test('device.update and device.delete, then a failing device.authenticate with its reason', () => {
    const yaml = ok(cluster.gatectl(['get', `device/${deviceId}`, '--format', 'yaml'])).stdout;
    const file = join(cluster.dir, 'device-update.yaml');
    writeFileSync(file, yaml.replace(/^metadata:\n/m, 'metadata:\n  description: audited\n'));
    ok(cluster.gatectl(['create', '-f', file, '--force']));
    const [updated] = audit('--type', 'device.update');
    assert.deepEqual([updated?.success, updated?.device_id, updated?.asset_tag], [true, deviceId, assetTag]);

    ok(cluster.gatectl(['devices', 'rm', '--asset-tag', assetTag]));
    const [deleted] = audit('--type', 'device.delete');
    assert.deepEqual(
      [deleted?.success, deleted?.device_id, deleted?.asset_tag, deleted?.code],
      [true, deviceId, assetTag, 'GH6002I'],
    );

    const mark = count('device.authenticate');
    const relogin = ok(login('alice'));
    const [failed] = since('device.authenticate', mark);
    assert.ok(failed, relogin.stdout + relogin.stderr);
    assert.equal(failed?.success, false);
    assert.equal(failed?.code, 'GH6005W');
    assert.equal(failed?.reason, 'unknown_credential');
    assert.equal(failed?.error_code, 'DEVICE_NOT_ENROLLED');
    assert.match(String(failed?.message), /no enrolled device has this credential/);
  });

  test('resource.create / update / delete for roles, users and the cluster auth preference', () => {
    const mark = { create: count('resource.create'), update: count('resource.update') };
    const role = `kind: role\nversion: v7\nmetadata: { name: temp }\nspec:\n  allow:\n    logins: [${LOGIN}]\n`;
    cluster.apply(role);
    cluster.apply(role.replace('logins:', 'node_labels: { env: test }\n    logins:'));
    ok(cluster.gatectl(['rm', 'role/temp']));
    ok(cluster.gatectl(['users', 'add', 'carol', '--roles=auditors']));
    setDeviceTrustMode('optional');
    const created = since('resource.create', mark.create);
    const updated = since('resource.update', mark.update);
    const deleted = audit('--type', 'resource.delete');
    const named = (events: Event[]) => events.map((e) => `${String(e.kind)}/${String(e.name)}`);
    assert.ok(named(created).includes('role/temp'), named(created).join(' '));
    assert.ok(named(created).includes('user/carol'), named(created).join(' '));
    assert.ok(named(updated).includes('role/temp'), named(updated).join(' '));
    assert.ok(
      named(updated).some((n) => n.startsWith('cluster_auth_preference/')),
      named(updated).join(' '),
    );
    assert.deepEqual(named(deleted), ['role/temp']);
    assert.ok([...created, ...updated, ...deleted].every((e) => e.user === ADMIN && e.success));
  });

  test('gatectl audit: text table, filters by user and time, JSON Lines export', () => {
    const table = ok(cluster.gatectl(['audit', '--user', 'alice', '--limit', '3'])).stdout.split('\n');
    assert.match(table[0]!, /^Time\s+Type\s+Code\s+User\s+Success\s+Details$/);
    const rows = table.slice(2).filter(Boolean);
    assert.equal(rows.length, 3);
    assert.ok(rows.every((row) => /\balice\b/.test(row)));
    const newestFirst = audit('--user', 'alice').reverse().slice(0, 3);
    assert.ok(rows[0]!.startsWith(String(newestFirst[0]?.time)), 'newest first by default');

    assert.deepEqual(audit('--since', '2000-01-01T00:00:00Z', '--until', '2000-01-02T00:00:00Z'), []);
    assert.ok(audit('--since', '10m').length > 10);
    assert.deepEqual([...new Set(audit('--user', 'bob').map((e) => e.user))], ['bob']);
    const bad = cluster.gatectl(['audit', '--type', 'no.such']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /unknown audit event type "no\.such"/);
  });
});
