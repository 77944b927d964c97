import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClientEnv, buildSessionEnv, isAcceptedEnvVar } from './session-env.ts';

const user = { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', shell: '/bin/zsh' };
const endpoints = { clientAddress: '10.0.0.5', clientPort: 50123, serverAddress: '10.0.0.1', serverPort: 3022 };

describe('isAcceptedEnvVar', () => {
  it('accepts locale and terminal variables only', () => {
    for (const n of ['LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'TERM', 'COLORTERM'])
      assert.ok(isAcceptedEnvVar(n, 'x'), n);
    for (const n of ['PATH', 'LD_PRELOAD', 'HOME', 'BASH_ENV', 'lc_all', 'LC_', 'SSH_ORIGINAL_COMMAND']) {
      assert.ok(!isAcceptedEnvVar(n, 'x'), n);
    }
  });
  it('refuses NUL bytes and huge values', () => {
    assert.ok(!isAcceptedEnvVar('LANG', 'C\0'));
    assert.ok(!isAcceptedEnvVar('LANG', 'x'.repeat(5000)));
  });
});

describe('buildSessionEnv', () => {
  it('builds the environment from scratch, with the user and connection facts', () => {
    const clientEnv = new ClientEnv();
    assert.ok(clientEnv.offer('LANG', 'de_DE.UTF-8'));
    assert.ok(!clientEnv.offer('PATH', '/evil'));
    const env = buildSessionEnv({ user, shell: '/bin/zsh', clientEnv, endpoints, gatehouseUser: 'alice@example.com' });
    assert.deepEqual(env, {
      LANG: 'de_DE.UTF-8',
      HOME: '/home/alice',
      USER: 'alice',
      LOGNAME: 'alice',
      SHELL: '/bin/zsh',
      PATH: '/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games',
      SSH_CLIENT: '10.0.0.5 50123 3022',
      SSH_CONNECTION: '10.0.0.5 50123 10.0.0.1 3022',
      GATEHOUSE_USER: 'alice@example.com',
    });
  });

  it('takes TERM from the pty request, and drops a client TERM without a pty', () => {
    const clientEnv = new ClientEnv();
    clientEnv.offer('TERM', 'vt100');
    assert.equal(
      buildSessionEnv({ user, shell: 's', clientEnv, endpoints, gatehouseUser: 'a', term: 'xterm' }).TERM,
      'xterm',
    );
    assert.equal(buildSessionEnv({ user, shell: 's', clientEnv, endpoints, gatehouseUser: 'a' }).TERM, undefined);
  });

  it('gives root the sbin directories and passes the original command under force-command', () => {
    const env = buildSessionEnv({
      user: { ...user, uid: 0, name: 'root', home: '/root' },
      shell: '/bin/bash',
      clientEnv: new ClientEnv(),
      endpoints,
      gatehouseUser: 'a',
      originalCommand: 'ls -l',
    });
    assert.match(env.PATH!, /\/usr\/sbin/);
    assert.equal(env.SSH_ORIGINAL_COMMAND, 'ls -l');
  });
});
