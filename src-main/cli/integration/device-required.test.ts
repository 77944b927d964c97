// `gate` against a real cluster whose auth preference requires a trusted device, from a machine
// that is not enrolled: login and status say "Full access requires a trusted device" with the
// enroll step, and `gate ssh` prints the node's refusal followed by the same next step.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterProcess, type ClusterUser } from '../../../test-support/cluster-process.ts';

const DENIAL = 'ERROR: ssh: rejected: administratively prohibited (unauthorized device)';
const NEXT =
  'Next step: ask your administrator for an enroll token, run "gate device enroll" (it asks for the token): this login becomes device-trusted at once';

describe('gate where the cluster requires a trusted device and this machine is not enrolled', () => {
  const cluster = new ClusterProcess({ clusterName: 'devreq' });
  let user: ClusterUser;
  before(async () => {
    await cluster.start();
    const file = join(cluster.dir, 'cap.yaml');
    writeFileSync(
      file,
      "kind: cluster_auth_preference\nversion: v2\nmetadata: { name: cluster-auth-preference }\nspec:\n  type: local\n  second_factor: 'off'\n  device_trust: { mode: required }\n",
    );
    const r = cluster.gatectl(['create', '-f', file]);
    assert.equal(r.status, 0, r.stderr);
    user = cluster.addUser('alice', ['access']);
  });
  after(() => cluster.destroy());

  test('gate login: the login stands, not device-trusted, with the requirement and next step', () => {
    const r = cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', user.name, '--password-stdin'],
      user.password + '\n',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Device trust: not device-trusted: this device is not enrolled in cluster "devreq"$/m);
    assert.match(r.stdout, /^ {2}Full access requires a trusted device\.$/m);
    assert.ok(r.stdout.includes(`  ${NEXT}\n`), r.stdout);
  });

  test('gate status: the same, under the Device trust row', () => {
    const r = cluster.gate(['status']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ {2}Device trust: +not device-trusted \(required\)$/m);
    assert.match(r.stdout, /^ {16}Full access requires a trusted device\.$/m);
    assert.ok(r.stdout.includes(`${' '.repeat(16)}${NEXT}\n`), r.stdout);
  });

  test("gate ssh: the node's refusal as the ERROR line, then the next step", () => {
    const r = cluster.gate(['ssh', `${user.login}@${cluster.nodeName}`, 'true']);
    assert.equal(r.status, 4, r.stderr);
    assert.equal(r.stderr, `${DENIAL}\nFull access requires a trusted device.\n${NEXT}\n`);
  });
});
