import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { ResourceStore, type Resource, type ResourceEvent } from './resources.ts';
import { SqliteBackend, type SqliteBackendOptions } from './sqlite.ts';

interface WidgetSpec {
  size: number;
  tags?: string[];
}

async function backendFor(t: TestContext, options: Partial<SqliteBackendOptions> = {}): Promise<SqliteBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-resources-'));
  const backend = await SqliteBackend.open({ path: join(dir, 'gatehouse.db'), ...options });
  t.after(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return backend;
}

function widget(
  name: string,
  size: number,
  extra: Partial<Resource<WidgetSpec>['metadata']> = {},
): Resource<WidgetSpec> {
  return { kind: 'widget', version: 'v1', metadata: { name, ...extra }, spec: { size } };
}

function code(c: string, pattern?: RegExp) {
  return (e: unknown) => e instanceof GatehouseError && e.code === c && (!pattern || pattern.test(e.message));
}

test('create, get, list, upsert and delete under /<kind>s/<name>', async (t) => {
  const backend = await backendFor(t);
  const widgets = new ResourceStore<WidgetSpec>(backend, { kind: 'widget' });
  const created = await widgets.create(widget('b', 2, { labels: { env: 'prod' } }));
  assert.equal(typeof created.metadata.revision, 'number');
  await widgets.create(widget('a', 1, { labels: { env: 'dev' } }));
  assert.equal(widgets.keyFor('a'), '/widgets/a');

  // The revision comes from the item, never from the stored document.
  const raw = await backend.get('/widgets/b');
  assert.equal(raw?.revision, created.metadata.revision);
  assert.equal('revision' in (JSON.parse(raw!.value) as Resource).metadata, false);

  assert.deepEqual(await widgets.get('b'), created);
  assert.deepEqual(
    (await widgets.list()).map((w) => w.metadata.name),
    ['a', 'b'],
  );
  assert.deepEqual(
    (await widgets.list({ labels: { env: 'prod' } })).map((w) => w.metadata.name),
    ['b'],
  );

  await assert.rejects(widgets.create(widget('a', 9)), code(ErrorCode.ALREADY_EXISTS, /widget "a" already exists/));
  const upserted = await widgets.upsert(widget('a', 10, { revision: 1 }));
  assert.equal(upserted.spec.size, 10);
  assert.ok(upserted.metadata.revision! > created.metadata.revision!);

  await widgets.delete('a');
  assert.equal(await widgets.find('a'), undefined);
  await assert.rejects(widgets.get('a'), code(ErrorCode.NOT_FOUND, /widget "a" not found/));
  await assert.rejects(widgets.delete('a'), code(ErrorCode.NOT_FOUND));
});

test('update needs the revision that was read and tells the loser of a race to re-read', async (t) => {
  const backend = await backendFor(t);
  const widgets = new ResourceStore<WidgetSpec>(backend, { kind: 'widget' });
  await widgets.create(widget('w', 1));
  const [first, second] = [await widgets.get('w'), await widgets.get('w')];
  first.spec.size = 2;
  second.spec.size = 3;
  const results = await Promise.allSettled([widgets.update(first), widgets.update(second)]);
  const fulfilled = results.filter((r) => r.status === 'fulfilled');
  const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(fulfilled.length, 1);
  assert.equal(rejected.length, 1);
  assert.ok(
    code(ErrorCode.CONFLICT, /changed by someone else.*re-read it and retry/)(rejected[0]!.reason),
    String(rejected[0]!.reason),
  );
  const stored = await widgets.get('w');
  assert.equal(stored.spec.size, (fulfilled[0] as PromiseFulfilledResult<Resource<WidgetSpec>>).value.spec.size);

  // Re-reading and retrying works.
  stored.spec.size = 4;
  assert.equal((await widgets.update(stored)).spec.size, 4);

  const { revision: _, ...noRevision } = stored.metadata;
  await assert.rejects(
    widgets.update({ ...stored, metadata: noRevision }),
    code(ErrorCode.BAD_REQUEST, /metadata\.revision/),
  );
  const stale = await widgets.get('w');
  await widgets.delete('w');
  await assert.rejects(widgets.update(stale), code(ErrorCode.NOT_FOUND));
});

test('refuses resources of another kind, bad names and missing fields', async (t) => {
  const backend = await backendFor(t);
  const widgets = new ResourceStore<WidgetSpec>(backend, { kind: 'widget' });
  await assert.rejects(
    widgets.create({ ...widget('x', 1), kind: 'gadget' }),
    code(ErrorCode.INVALID_RESOURCE, /expected kind "widget"/),
  );
  for (const name of ['', 'a/b', '..', 'tab\there', 'x'.repeat(254)]) {
    await assert.rejects(
      widgets.create(widget(name, 1)),
      code(ErrorCode.INVALID_RESOURCE),
      `name ${JSON.stringify(name)}`,
    );
  }
  await assert.rejects(widgets.create({ ...widget('x', 1), version: '' }), code(ErrorCode.INVALID_RESOURCE));
  await assert.rejects(
    widgets.create({ ...widget('x', 1), spec: undefined as unknown as WidgetSpec }),
    code(ErrorCode.INVALID_RESOURCE),
  );
  await assert.rejects(
    widgets.create(widget('x', 1, { expires: 'tomorrow' })),
    code(ErrorCode.INVALID_RESOURCE, /expires/),
  );
  assert.deepEqual(await backend.listPrefix('/'), [], 'nothing was written');
});

test('the validate hook runs before writing and can normalise', async (t) => {
  const backend = await backendFor(t);
  const widgets = new ResourceStore<WidgetSpec>(backend, {
    kind: 'widget',
    collection: 'things',
    validate: (r) => {
      const spec = r.spec as WidgetSpec;
      if (typeof spec.size !== 'number' || spec.size < 0) {
        throw new GatehouseError(ErrorCode.INVALID_RESOURCE, 'size must be a non-negative number');
      }
      return { ...r, spec: { ...spec, tags: [...(spec.tags ?? [])].sort() } };
    },
  });
  await assert.rejects(widgets.create(widget('w', -1)), code(ErrorCode.INVALID_RESOURCE, /non-negative/));
  await widgets.create({ ...widget('w', 1), spec: { size: 1, tags: ['b', 'a'] } });
  assert.deepEqual(
    (await backend.listPrefix('/things/')).map((i) => i.key),
    ['/things/w'],
  );
  assert.deepEqual((await widgets.get('w')).spec.tags, ['a', 'b']);
});

test('metadata.expires makes a resource disappear', async (t) => {
  let now = Date.parse('2030-06-01T12:00:00Z');
  const backend = await backendFor(t, { now: () => now, sweepIntervalMs: 60_000 });
  const widgets = new ResourceStore<WidgetSpec>(backend, { kind: 'widget' });
  const saved = await widgets.create(widget('temp', 1, { expires: '2030-06-01T13:00:00+01:00' }));
  assert.equal(saved.metadata.expires, '2030-06-01T12:00:00.000Z', 'normalised to UTC');
  await widgets.create(widget('temp2', 1, { expires: '2030-06-01T12:00:01Z' }));
  assert.equal((await widgets.list()).length, 1, 'temp already expired');
  assert.equal(await widgets.find('temp'), undefined);
  now += 1000;
  assert.deepEqual(await widgets.list(), []);
});

test('watch reports puts as resources and deletes by name, only for its kind', async (t) => {
  const backend = await backendFor(t);
  const widgets = new ResourceStore<WidgetSpec>(backend, { kind: 'widget' });
  const others = new ResourceStore(backend, { kind: 'widgetx' });
  const watcher = widgets.watch();
  const it = watcher[Symbol.asyncIterator]();
  const next = async (): Promise<ResourceEvent<WidgetSpec>> => {
    const r = await it.next();
    assert.equal(r.done, false, 'watcher ended early');
    return r.value as ResourceEvent<WidgetSpec>;
  };
  assert.equal((await next()).type, 'init');
  await others.create({ kind: 'widgetx', version: 'v1', metadata: { name: 'o' }, spec: {} });
  const created = await widgets.create(widget('w', 5));
  await widgets.delete('w');
  assert.deepEqual(await next(), { type: 'put', resource: created });
  const deleted = await next();
  assert.equal(deleted.type, 'delete');
  assert.equal(deleted.type === 'delete' && deleted.name, 'w');
  watcher.close();
  assert.equal(watcher.closed, true);
  assert.equal((await it.next()).done, true);
});

test('a corrupt stored document is a STORAGE error, not a crash', async (t) => {
  const backend = await backendFor(t);
  const widgets = new ResourceStore<WidgetSpec>(backend, { kind: 'widget' });
  await backend.put({ key: '/widgets/bad', value: '{not json' });
  await assert.rejects(widgets.get('bad'), code(ErrorCode.STORAGE, /not valid JSON/));
});

test('listJson is list() as JSON texts: the stored text with the revision spliced in, parsed when it cannot be', async (t) => {
  const backend = await backendFor(t);
  const widgets = new ResourceStore<WidgetSpec>(backend, { kind: 'widget' });
  await widgets.create(widget('a', 1, { labels: { env: 'dev' } }));
  await widgets.create({ ...widget('b', 2), spec: { size: 2, tags: ['"metadata":{"x"', '{['] } });
  // A document whose members another writer ordered differently: metadata after a nested object,
  // so "metadata":{" first appears inside spec and the text must not be spliced.
  const odd = {
    kind: 'widget',
    version: 'v1',
    spec: { size: 3, metadata: { name: 'decoy' } },
    metadata: { name: 'c' },
  };
  const stored = await backend.put({ key: '/widgets/c', value: JSON.stringify(odd) });
  const texts = await widgets.listJson();
  assert.deepEqual(
    texts.map((j) => JSON.parse(j) as unknown),
    await widgets.list(),
  );
  assert.deepEqual((JSON.parse(texts[2]!) as Resource<WidgetSpec>).metadata, { name: 'c', revision: stored.revision });
  assert.deepEqual((JSON.parse(texts[2]!) as Resource<{ metadata: unknown }>).spec.metadata, { name: 'decoy' });
  // The spliced texts are the stored bytes plus the revision, not a re-serialisation.
  const a = await backend.get('/widgets/a');
  assert.equal(texts[0], a!.value.replace('"metadata":{', `"metadata":{"revision":${a!.revision},`));
});
