import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, isGatehouseError } from '../../src-shared/errors.ts';
import { ClientEnv, EnvAllowList, acceptEnvProblem, buildSessionEnv } from './session-env.ts';

const user = { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', shell: '/bin/zsh' };
const endpoints = { clientAddress: '10.0.0.5', clientPort: 50123, serverAddress: '10.0.0.1', serverPort: 3022 };

describe('EnvAllowList (ssh_service.accept_env)', () => {
  it('takes LANG and LC_* by default, like Debian sshd_config AcceptEnv', () => {
    const list = new EnvAllowList();
    for (const n of ['LANG', 'LC_ALL', 'LC_CTYPE', 'LC_']) assert.ok(list.allows(n, 'C.UTF-8'), n);
    for (const n of ['PATH', 'LD_PRELOAD', 'HOME', 'BASH_ENV', 'lc_all', 'LANGUAGE', 'TERM', 'FOO', 'XLC_ALL', '']) {
      assert.ok(!list.allows(n, 'x'), n);
    }
  });
  it('an admin list: exact names and trailing-* prefixes; the empty list takes nothing', () => {
    const list = new EnvAllowList(['LANG', 'GIT_*', 'COLORTERM']);
    assert.ok(list.allows('GIT_AUTHOR_NAME', 'A'));
    assert.ok(list.allows('COLORTERM', 'truecolor'));
    assert.ok(!list.allows('LC_ALL', 'C'));
    assert.ok(!list.allows('COLORTERMX', 'x'));
    assert.ok(!new EnvAllowList([]).allows('LANG', 'C.UTF-8'));
  });
  it('refuses NUL bytes and huge values even when the name is allowed', () => {
    const list = new EnvAllowList();
    assert.ok(!list.allows('LANG', 'C\0'));
    assert.ok(!list.allows('LANG', 'x'.repeat(5000)));
  });
  it('refuses unusable patterns with a CONFIG error naming the entry', () => {
    for (const bad of ['*', 'LC_*_X', '*_ALL', 'L?NG', 'A-B', '']) {
      assert.ok(acceptEnvProblem(bad), bad);
      assert.throws(
        () => new EnvAllowList([bad]),
        (e: unknown) => {
          assert.ok(isGatehouseError(e) && e.code === ErrorCode.CONFIG);
          assert.match(e.message, /^ssh_service\.accept_env: /);
          return true;
        },
      );
    }
    assert.throws(() => new EnvAllowList(Array.from({ length: 65 }, (_, i) => `V${i}`)), /at most 64/);
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

  it('takes TERM from the pty request, and drops a client TERM without a pty (even when accept_env lists it)', () => {
    const clientEnv = new ClientEnv(new EnvAllowList(['TERM']));
    assert.ok(clientEnv.offer('TERM', 'vt100'));
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
