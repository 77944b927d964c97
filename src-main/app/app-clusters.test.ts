// The app's clusters file, the login order offered per server, and where the app keeps its data.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppClusterStore } from './app-clusters.ts';
import { defaultAppHome } from './home.ts';
import { orderLogins } from './resources-service.ts';

function withHome(fn: (home: string) => void): void {
  const home = mkdtempSync(join(tmpdir(), 'gh-app-'));
  try {
    fn(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const entry = (proxy: string, clusterName = 'c') => ({ proxy, clusterName, secondFactor: 'off', addedAt: 'then' });

describe('AppClusterStore', () => {
  test('the first cluster becomes current; re-adding refreshes facts but keeps the session user', () =>
    withHome((home) => {
      const s = new AppClusterStore(home);
      assert.deepEqual(s.list(), []);
      assert.equal(s.current(), undefined);
      s.upsert(entry('a:1', 'alpha'));
      s.upsert(entry('b:2', 'beta'));
      assert.equal(s.current(), 'a:1');
      s.setUser('a:1', 'ann');
      s.upsert({ ...entry('a:1', 'alpha-renamed'), addedAt: 'later' });
      assert.deepEqual(s.get('a:1'), {
        proxy: 'a:1',
        clusterName: 'alpha-renamed',
        secondFactor: 'off',
        addedAt: 'then',
        user: 'ann',
      });
      assert.equal(statSync(s.path).mode & 0o777, 0o600);
      s.setUser('a:1', undefined);
      assert.equal(s.get('a:1')?.user, undefined);
    }));

  test('select needs a known cluster; removing the current one selects the next', () =>
    withHome((home) => {
      const s = new AppClusterStore(home);
      s.upsert(entry('a:1'));
      s.upsert(entry('b:2'));
      assert.throws(() => s.select('z:9'), { code: 'NOT_FOUND' });
      assert.throws(() => s.require('z:9'), { code: 'NOT_FOUND', message: /add it first/ });
      s.select('b:2');
      assert.equal(s.current(), 'b:2');
      assert.equal(s.remove('b:2'), true);
      assert.equal(s.current(), 'a:1');
      assert.equal(s.remove('b:2'), false);
      s.remove('a:1');
      assert.equal(s.current(), undefined);
    }));

  test('a damaged file is a STORAGE error naming it', () =>
    withHome((home) => {
      const s = new AppClusterStore(home);
      writeFileSync(s.path, '{"version":2}');
      assert.throws(
        () => s.list(),
        (e: Error & { code?: string }) => e.code === 'STORAGE' && e.message.includes(s.path),
      );
    }));
});

test('orderLogins puts the local user first only when allowed, without duplicates', () => {
  assert.deepEqual(orderLogins(['root', 'alice', 'root'], 'alice'), ['alice', 'root']);
  assert.deepEqual(orderLogins(['root', 'ops'], 'alice'), ['root', 'ops']);
  assert.deepEqual(orderLogins([], 'alice'), []);
  assert.deepEqual(orderLogins(['ops'], undefined), ['ops']);
});

test('defaultAppHome: GATEHOUSE_HOME, else the per-platform app data directory', () => {
  assert.equal(defaultAppHome({ GATEHOUSE_HOME: '/x/y' }, 'linux', '/home/u'), '/x/y');
  assert.equal(defaultAppHome({}, 'linux', '/home/u'), '/home/u/.config/Gatehouse');
  assert.equal(defaultAppHome({ XDG_CONFIG_HOME: '/cfg' }, 'linux', '/home/u'), '/cfg/Gatehouse');
  assert.equal(defaultAppHome({}, 'darwin', '/Users/u'), '/Users/u/Library/Application Support/Gatehouse');
});
