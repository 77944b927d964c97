// Seeding and precedence of the cluster auth preference against real sqlite databases, including
// a second process's view (another backend on the same file) following writes through the watch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../log/logger.ts';
import { SqliteBackend } from '../storage/sqlite.ts';
import { newClusterAuthPreference, ORIGIN_LABEL } from '../resources/cluster-auth-preference.ts';
import type { Resource as StoredResource } from '../storage/resources.ts';
import { createCertAuthority } from './x509.ts';
import {
  ClusterAuthPreferenceService,
  configDifferences,
  seedDecision,
  type CapConfigValues,
} from './cluster-auth-preference.ts';

const dir = mkdtempSync(join(tmpdir(), 'cap-test-'));
let pemA = '';
let pemB = '';
before(async () => {
  pemA = (await createCertAuthority('EK CA A', 't')).certPem;
  pemB = (await createCertAuthority('EK CA B', 't')).certPem;
});
after(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  return { lines, log };
}

async function startService(path: string, config: CapConfigValues) {
  const backend = await SqliteBackend.open({ path });
  const { lines, log } = capture();
  const service = new ClusterAuthPreferenceService({ backend, config, log });
  await service.start();
  const stop = async () => {
    service.close();
    await backend.close();
  };
  return { backend, service, lines, stop };
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('seedDecision: create when absent, re-seed while the config owns it, keep once dynamic', () => {
  const config: CapConfigValues = { secondFactor: 'otp', ekCertAllowedCas: [] };
  const created = seedDecision(undefined, config);
  assert.equal(created.action, 'create');
  assert.equal(created.action === 'create' && created.resource.metadata.labels?.[ORIGIN_LABEL], 'config');
  assert.equal(created.action === 'create' && created.resource.spec.second_factor, 'otp');
  const fromConfig = newClusterAuthPreference({ origin: 'config' });
  assert.equal(seedDecision(fromConfig, config).action, 'reseed');
  assert.equal(seedDecision(newClusterAuthPreference(), config).action, 'reseed');
  const dynamic = newClusterAuthPreference({ origin: 'dynamic', mode: 'required' });
  assert.deepEqual(seedDecision(dynamic, config), { action: 'keep', differences: ['auth.second_factor'] });
  assert.deepEqual(configDifferences(dynamic.spec, { secondFactor: 'off', ekCertAllowedCas: [] }), []);
});

test('auth.device_trust.ekpub_allowed seeds the preference (default true) and counts as a difference once dynamic', () => {
  const strict: CapConfigValues = { secondFactor: 'off', ekCertAllowedCas: [], ekpubAllowed: false };
  const created = seedDecision(undefined, strict);
  assert.equal(created.action === 'create' && created.resource.spec.device_trust.ekpub_allowed, false);
  const lax = seedDecision(undefined, { secondFactor: 'off', ekCertAllowedCas: [] });
  assert.equal(lax.action === 'create' && lax.resource.spec.device_trust.ekpub_allowed, true);
  const dynamic = newClusterAuthPreference({ origin: 'dynamic' });
  assert.deepEqual(configDifferences(dynamic.spec, strict), ['auth.device_trust.ekpub_allowed']);
  assert.deepEqual(configDifferences(newClusterAuthPreference({ ekpubAllowed: false }).spec, strict), []);
});

test('first start seeds from config; restarts apply config edits while the config owns it', async () => {
  const path = join(dir, 'seed.db');
  let run = await startService(path, { secondFactor: 'off', ekCertAllowedCas: [pemA] });
  let stored = await run.service.store.get('cluster-auth-preference');
  assert.equal(stored.metadata.labels?.[ORIGIN_LABEL], 'config');
  assert.equal(stored.spec.second_factor, 'off');
  assert.deepEqual(stored.spec.device_trust.ekcert_allowed_cas, [pemA]);
  assert.equal(stored.spec.device_trust.mode, 'optional');
  assert.deepEqual(run.service.ekCertAllowedCas(), [pemA]);
  assert.ok(run.lines.some((l) => l.includes('created from the config file')));
  await run.stop();

  run = await startService(path, { secondFactor: 'otp', ekCertAllowedCas: [pemB] });
  stored = await run.service.store.get('cluster-auth-preference');
  assert.equal(stored.spec.second_factor, 'otp');
  assert.deepEqual(stored.spec.device_trust.ekcert_allowed_cas, [pemB]);
  assert.equal(run.service.secondFactor(), 'otp');
  await run.stop();
});

test('an admin write takes over: later config edits do not apply and start warns about them', async () => {
  const path = join(dir, 'dynamic.db');
  let run = await startService(path, { secondFactor: 'off', ekCertAllowedCas: [] });
  const admin = newClusterAuthPreference({ secondFactor: 'otp', mode: 'required', origin: 'config' });
  const saved = await run.service.resourceHooks().create!(admin as StoredResource);
  // Whatever label the admin's copy carried, an API write is dynamic.
  assert.equal(saved.metadata.labels?.[ORIGIN_LABEL], 'dynamic');
  assert.equal(run.service.current().spec.device_trust.mode, 'required');
  assert.equal(run.service.secondFactor(), 'otp');
  await run.stop();

  run = await startService(path, { secondFactor: 'off', ekCertAllowedCas: [pemA] });
  assert.equal(run.service.secondFactor(), 'otp');
  assert.equal(run.service.current().spec.device_trust.mode, 'required');
  assert.deepEqual(run.service.ekCertAllowedCas(), []);
  const warning = run.lines.find((l) => l.includes('changed through the API'));
  assert.ok(warning, run.lines.join('\n'));
  assert.match(warning, /auth\.second_factor/);
  assert.match(warning, /auth\.device_trust\.ekcert_allowed_cas/);

  // Deleting hands it back to the config file.
  await run.service.store.delete('cluster-auth-preference');
  await run.service.resourceHooks().afterDelete!('cluster-auth-preference');
  const reset = await run.service.store.get('cluster-auth-preference');
  assert.equal(reset.metadata.labels?.[ORIGIN_LABEL], 'config');
  assert.equal(run.service.secondFactor(), 'off');
  assert.deepEqual(run.service.ekCertAllowedCas(), [pemA]);
  assert.equal(run.service.current().spec.device_trust.mode, 'optional');
  await run.stop();
});

test('an edit with a stale revision is refused and changes nothing', async () => {
  const run = await startService(join(dir, 'cas.db'), { secondFactor: 'off', ekCertAllowedCas: [] });
  const read = await run.service.store.get('cluster-auth-preference');
  await run.service.write({ ...read, spec: { ...read.spec, second_factor: 'otp' } });
  await assert.rejects(
    run.service.write({ ...read, spec: { ...read.spec, device_trust: { ...read.spec.device_trust, mode: 'off' } } }),
    {
      code: 'CONFLICT',
    },
  );
  assert.equal(run.service.current().spec.device_trust.mode, 'optional');
  assert.equal(run.service.secondFactor(), 'otp');
  await run.stop();
});

test('a write by another process reaches current() through the watch', async () => {
  const path = join(dir, 'watch.db');
  const first = await startService(path, { secondFactor: 'off', ekCertAllowedCas: [] });
  const second = await startService(path, { secondFactor: 'off', ekCertAllowedCas: [] });
  await second.service.write(
    newClusterAuthPreference({ secondFactor: 'otp', mode: 'required-for-humans' }) as StoredResource,
  );
  await eventually(() => first.service.current().spec.device_trust.mode === 'required-for-humans', 'the watch');
  assert.equal(first.service.secondFactor(), 'otp');
  await second.service.store.delete('cluster-auth-preference');
  await eventually(() => first.service.current().spec.device_trust.mode === 'optional', 'the delete event');
  assert.equal(first.service.secondFactor(), 'off');
  await second.stop();
  await first.stop();
});
