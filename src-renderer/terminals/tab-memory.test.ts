import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewaySummary } from '../../src-main/ipc/contract.ts';
import type { TerminalTab } from '../stores/terminals-store.ts';
import { MemoryStorage } from '../test-support/memory-storage.ts';
import { describeTabs, MAX_REMEMBERED_TABS, sameTarget, TabMemory, type TabDescriptor } from './tab-memory.ts';

const terminal = (proxy: string, node: string, over: Partial<TerminalTab> = {}): TerminalTab => ({
  id: `t-${node}`,
  proxy,
  node,
  login: 'root',
  title: `root@${node}`,
  attempt: 1,
  state: { kind: 'open', terminalId: 'secret-terminal-id' },
  ...over,
});
const dbGateway: GatewaySummary = {
  kind: 'db',
  id: 'g1',
  proxy: 'a:3080',
  localAddress: '127.0.0.1',
  localPort: 5433,
  connections: 2,
  database: 'orders',
  protocol: 'postgres',
  dbUser: 'alice',
  clientCommand: 'psql ...',
};

test('descriptors per cluster keep only what reopens a tab: no terminal ids, no client tabs', () => {
  const byProxy = describeTabs(
    [terminal('a:3080', 'web1'), terminal('b:3080', 'db1'), terminal('a:3080', 'orders', { gatewayId: 'g1' })],
    [dbGateway],
  );
  assert.deepEqual(byProxy.get('a:3080'), [
    { kind: 'terminal', proxy: 'a:3080', node: 'web1', login: 'root' },
    { kind: 'db-gateway', proxy: 'a:3080', database: 'orders', protocol: 'postgres', dbUser: 'alice', port: 5433 },
  ]);
  assert.deepEqual(byProxy.get('b:3080'), [{ kind: 'terminal', proxy: 'b:3080', node: 'db1', login: 'root' }]);
  assert.doesNotMatch(JSON.stringify([...byProxy]), /secret-terminal-id|psql/);
});

test('remembered tabs round-trip per cluster; an empty list removes the key', () => {
  const storage = new MemoryStorage();
  const memory = new TabMemory(storage);
  const tabs: TabDescriptor[] = [{ kind: 'app-gateway', proxy: 'a:3080', app: 'grafana', port: 8080 }];
  memory.write('a:3080', tabs);
  assert.deepEqual(new TabMemory(storage).read('a:3080'), tabs);
  assert.deepEqual(new TabMemory(storage).read('b:3080'), []);
  memory.write('a:3080', []);
  assert.equal(storage.items.size, 0);
});

test('stored entries are checked: junk, another cluster’s and bad ports are skipped; the count is capped', () => {
  const storage = new MemoryStorage();
  const ok = { kind: 'terminal', proxy: 'a:3080', node: 'web1', login: 'root' };
  storage.setItem(
    'gatehouse.openTabs.a:3080',
    JSON.stringify([
      ok,
      { ...ok, proxy: 'b:3080' },
      { kind: 'app-gateway', proxy: 'a:3080', app: 'x', port: 70000 },
      'x',
      null,
    ]),
  );
  assert.deepEqual(new TabMemory(storage).read('a:3080'), [ok]);
  storage.setItem('gatehouse.openTabs.a:3080', '{not json');
  assert.deepEqual(new TabMemory(storage).read('a:3080'), []);
  storage.setItem('gatehouse.openTabs.a:3080', JSON.stringify(Array.from({ length: 50 }, () => ok)));
  assert.equal(new TabMemory(storage).read('a:3080').length, MAX_REMEMBERED_TABS);
});

test('a storage that throws loses the memory, not the app', () => {
  const storage = new MemoryStorage();
  storage.broken = true;
  const warnings: string[] = [];
  const memory = new TabMemory(storage, (m) => warnings.push(m));
  memory.write('a:3080', [{ kind: 'terminal', proxy: 'a:3080', node: 'n', login: 'l' }]);
  assert.deepEqual(memory.read('a:3080'), []);
  assert.equal(warnings.length, 2);
});

test('same target ignores a gateway’s port but not its user', () => {
  const db = describeTabs([], [dbGateway]).get('a:3080')![0]!;
  assert.ok(sameTarget(db, { ...db, port: 9999 } as TabDescriptor));
  assert.ok(!sameTarget(db, { ...db, dbUser: 'bob' } as TabDescriptor));
});
