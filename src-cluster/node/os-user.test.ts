import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lookupOsUser, parsePasswdLine, resolveLogin, workingDirectory, type OsUser } from './os-user.ts';

const alice: OsUser = { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', shell: '/bin/bash' };
const root: OsUser = { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' };
const users = new Map([
  ['alice', alice],
  ['root', root],
]);
const lookup = async (login: string) => users.get(login);

describe('parsePasswdLine', () => {
  it('reads the fields a session needs', () => {
    assert.deepEqual(parsePasswdLine('nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n'), {
      name: 'nobody',
      uid: 65534,
      gid: 65534,
      home: '/nonexistent',
      shell: '/usr/sbin/nologin',
    });
  });
  it('rejects malformed lines', () => {
    assert.equal(parsePasswdLine('nobody:x:65534'), undefined);
    assert.equal(parsePasswdLine('nobody:x::65534:n:/:/bin/sh'), undefined);
    assert.equal(parsePasswdLine('nobody:x:abc:1:n:/:/bin/sh'), undefined);
  });
});

describe('lookupOsUser (real getent)', () => {
  it('finds root and not a missing user', async () => {
    assert.equal((await lookupOsUser('root'))?.uid, 0);
    assert.equal(await lookupOsUser('no-such-user-gh42'), undefined);
  });
  it('does not hand option-like or numeric names to getent', async () => {
    // `getent passwd 0` would answer with root.
    assert.equal(await lookupOsUser('0'), undefined);
    assert.equal(await lookupOsUser('--help'), undefined);
    assert.equal(await lookupOsUser('a b'), undefined);
  });
});

describe('resolveLogin', () => {
  it('as root: any existing login; switching only for non-root logins', async () => {
    const self = { uid: 0, name: 'root' };
    assert.deepEqual(await resolveLogin('alice', 'n1', self, lookup), { ok: true, user: alice, switchUser: true });
    assert.deepEqual(await resolveLogin('root', 'n1', self, lookup), { ok: true, user: root, switchUser: false });
  });

  it('as an ordinary user: only that user', async () => {
    const self = { uid: 1000, name: 'alice' };
    assert.deepEqual(await resolveLogin('alice', 'n1', self, lookup), { ok: true, user: alice, switchUser: false });
    assert.deepEqual(await resolveLogin('root', 'n1', self, lookup), {
      ok: false,
      reason: 'node "n1" runs as user "alice" and cannot start sessions as "root"',
    });
  });

  it('names a login that does not exist', async () => {
    assert.deepEqual(await resolveLogin('bob', 'n1', { uid: 0, name: 'root' }, lookup), {
      ok: false,
      reason: 'login "bob" does not exist on node "n1"',
    });
  });
});

describe('workingDirectory', () => {
  it('is the home when it exists, else /', async () => {
    assert.equal(await workingDirectory(root), '/root');
    assert.equal(await workingDirectory({ ...alice, home: '/nonexistent-gh42' }), '/');
  });
});
