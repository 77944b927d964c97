// The node's audit events with the stock OpenSSH client: session.start before the program runs
// and session.end before the exit status, trusted_device only for certificates with the device
// fields while device trust is not off, access.denied for a refused channel, and no session at all
// when the audit log cannot record its start (fail closed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import {
  SSH_EXT_DEVICE_ASSET_TAG,
  SSH_EXT_DEVICE_CREDENTIAL_ID,
  SSH_EXT_DEVICE_ID,
} from '../../../src-shared/cert-fields.ts';
import type { AuditEventInput } from '../../audit/audit-events.ts';
import { TempDir, makeKey, requireTool, runSsh, signCert, startTestNode, type TestNode } from './fixtures.ts';

const LOGIN = userInfo().username;

describe('node audit events', () => {
  let dir: TempDir;
  let key: string;
  let cert: string;
  let deviceKey: string;
  let deviceCert: string;
  let node: TestNode;
  let mode = 'optional';
  const audit = {
    events: [] as AuditEventInput[],
    failWith: '',
    async emit(event: AuditEventInput): Promise<void> {
      if (this.failWith) throw new Error(this.failWith);
      this.events.push(event);
    },
  };
  const ssh = (k: string, c: string, command: string) =>
    runSsh({ port: node.port, login: LOGIN, key: k, cert: c, command: [command] });

  before(async () => {
    requireTool('ssh');
    dir = new TempDir();
    const ca = makeKey(dir, 'user_ca');
    key = makeKey(dir, 'erin');
    cert = signCert(ca, key, { keyId: 'erin', principals: [LOGIN] });
    deviceKey = makeKey(dir, 'frank');
    deviceCert = signCert(ca, deviceKey, {
      keyId: 'frank',
      principals: [LOGIN],
      options: [
        `extension:${SSH_EXT_DEVICE_ID}=dev-1`,
        `extension:${SSH_EXT_DEVICE_ASSET_TAG}=TAG-1`,
        `extension:${SSH_EXT_DEVICE_CREDENTIAL_ID}=cred-1`,
      ],
    });
    node = await startTestNode(dir, ca, { audit, deviceTrustMode: () => mode });
  });
  after(async () => {
    await node?.server.close();
    dir?.remove();
  });

  it('records session.start then session.end with the same session id, exit code and duration', async () => {
    audit.events = [];
    const r = await ssh(key, cert, 'echo hi');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      audit.events.map((e) => e.type),
      ['session.start', 'session.end'],
    );
    const [start, end] = audit.events;
    assert.equal(start!.user, 'erin');
    assert.deepEqual(
      { ...start!.fields, session_id: undefined, client_address: undefined },
      {
        login: LOGIN,
        node: 'test-node',
        command: 'echo hi',
        pty: false,
        session_id: undefined,
        client_address: undefined,
      },
    );
    assert.equal(end!.fields!['session_id'], start!.fields!['session_id']);
    assert.equal(end!.fields!['exit_code'], 0);
    assert.equal(typeof end!.fields!['duration_ms'], 'number');
    assert.equal(start!.fields!['trusted_device'], undefined);
  });

  it('adds trusted_device for a certificate with the device fields, unless device trust is off', async () => {
    audit.events = [];
    mode = 'optional';
    assert.equal((await ssh(deviceKey, deviceCert, 'true')).code, 0);
    const trusted = { device_id: 'dev-1', asset_tag: 'TAG-1', credential_id: 'cred-1' };
    assert.deepEqual(
      audit.events.map((e) => e.fields!['trusted_device']),
      [trusted, trusted],
    );
    audit.events = [];
    mode = 'off';
    assert.equal((await ssh(deviceKey, deviceCert, 'true')).code, 0);
    assert.deepEqual(
      audit.events.map((e) => e.fields!['trusted_device']),
      [undefined, undefined],
    );
    mode = 'optional';
  });

  it('records access.denied with the reason when the authorizer refuses', async () => {
    audit.events = [];
    node.authorizer.decision = { allowed: false, reason: 'unauthorized device' };
    try {
      const r = await ssh(key, cert, 'true');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /unauthorized device/);
    } finally {
      node.authorizer.decision = { allowed: true };
    }
    assert.equal(audit.events.length, 1);
    assert.equal(audit.events[0]!.type, 'access.denied');
    assert.equal(audit.events[0]!.success, false);
    assert.equal(audit.events[0]!.fields!['reason'], 'unauthorized device');
  });

  it('runs nothing when the audit log cannot record the start', async () => {
    audit.events = [];
    audit.failWith = 'disk full';
    const marker = dir.file('ran');
    try {
      const r = await ssh(key, cert, `touch ${marker}`);
      assert.equal(r.code, 127);
      assert.match(r.stderr, /cannot start the session: .*disk full/);
    } finally {
      audit.failWith = '';
    }
    assert.equal(existsSync(marker), false, 'the command must not have run');
    assert.deepEqual(audit.events, []);
  });
});
