// `gate ssh` sends the local locale (LANG, LC_*: OpenSSH's Debian SendEnv default) to a real node,
// whose default accept_env allow list ("LANG", "LC_*") applies it; other variables never arrive.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterProcess } from '../../../test-support/cluster-process.ts';

describe('gate ssh and the locale', () => {
  const cluster = new ClusterProcess({ clusterName: 'ssh-env' });
  before(async () => {
    await cluster.start();
    const login = cluster.addUserAndLogin('erin', 'a long enough password 1', 'access', 'root');
    assert.equal(login.status, 0, login.stderr);
  });
  after(() => cluster.destroy());

  test('LANG and LC_* reach the remote command; a variable outside the allow list does not', () => {
    const r = cluster.gate(['ssh', `root@${cluster.nodeName}`, 'echo "[$LANG][$LC_TIME][$GATEHOUSE_SECRET_X]"'], '', {
      LANG: 'de_DE.UTF-8',
      LC_TIME: 'en_DK.UTF-8',
      GATEHOUSE_SECRET_X: 'leak',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '[de_DE.UTF-8][en_DK.UTF-8][]');
  });
});
