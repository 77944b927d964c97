import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { installLightHeaders, LightHeaders } from './light-headers.ts';

test('names are case-insensitive and values trimmed; repeated values join with ", "', () => {
  const h = new LightHeaders({ 'Content-Type': ' application/proto\t' });
  h.append('X-Trace', 'a');
  h.append('x-trace', 'b');
  assert.equal(h.get('content-type'), 'application/proto');
  assert.equal(h.get('X-TRACE'), 'a, b');
  assert.equal(h.has('x-Trace'), true);
  assert.equal(h.get('missing'), null);
  h.set('X-Trace', 'c');
  assert.equal(h.get('x-trace'), 'c');
  h.delete('X-TRACE');
  assert.equal(h.has('x-trace'), false);
});

test('iteration is sorted by lower-case name, with each Set-Cookie on its own', () => {
  const h = new LightHeaders([
    ['Zeta', '1'],
    ['Set-Cookie', 'a=1'],
    ['alpha', '2'],
    ['set-cookie', 'b=2'],
  ]);
  assert.deepEqual(
    [...h],
    [
      ['alpha', '2'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['zeta', '1'],
    ],
  );
  assert.deepEqual([...h.keys()], ['alpha', 'set-cookie', 'set-cookie', 'zeta']);
  assert.deepEqual(h.getSetCookie(), ['a=1', 'b=2']);
  const seen: string[] = [];
  h.forEach((value, name, self) => {
    assert.equal(self, h);
    seen.push(`${name}=${value}`);
  });
  assert.deepEqual(seen, ['alpha=2', 'set-cookie=a=1', 'set-cookie=b=2', 'zeta=1']);
});

test('copies another header list, a record or pairs, as the standard Headers does', () => {
  const source = new LightHeaders({ A: '1' });
  source.append('a', '2');
  assert.deepEqual([...new LightHeaders(source)], [['a', '1, 2']]);
  assert.deepEqual([...new LightHeaders(new Headers({ B: '3' }))], [['b', '3']]);
  const fromLight = new Headers(new LightHeaders({ C: '4' })) as unknown as Iterable<[string, string]>;
  assert.deepEqual([...fromLight], [['c', '4']]);
  assert.equal(Object.prototype.toString.call(source), '[object Headers]');
});

test('refuses names that are not tokens and values with CR, LF or NUL, as the standard Headers does', () => {
  for (const bad of ['bad name', 'x:y', '']) {
    assert.throws(() => new LightHeaders({ [bad]: 'v' }), TypeError, bad);
    assert.throws(() => new Headers({ [bad]: 'v' }), TypeError, bad);
  }
  for (const bad of ['a\r\nb', 'a\nb', 'a\0b']) {
    assert.throws(() => new LightHeaders().set('x', bad), TypeError);
    assert.throws(() => new Headers().set('x', bad), TypeError);
  }
  assert.throws(() => new LightHeaders([['only-name']] as unknown as [string, string][]), TypeError);
});

test('installed as the global Headers, it keeps Node from loading undici', () => {
  const code = [
    `import { installLightHeaders } from ${JSON.stringify(new URL('./light-headers.ts', import.meta.url).href)};`,
    'installLightHeaders();',
    'const h = new Headers({ A: "1" });',
    'console.log(JSON.stringify({ a: h.get("a"), undici: process.moduleLoadList.filter((m) => m.includes("undici")) }));',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { a: '1', undici: [] });
  const target: { Headers?: unknown } = {};
  installLightHeaders(target);
  assert.equal(target.Headers, LightHeaders);
});
