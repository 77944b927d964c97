// The one device store rule (env, XDG, platforms) and the adoption of the per-client stores of
// earlier versions: copies, never overwrites, the newest enrollments.json wins, said in the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultAppHome } from '../app/home.ts';
import { adoptLegacyDeviceStore, legacyDeviceDirs, resolveDeviceHome } from './device-home.ts';
import { resolveGatehouseHome } from './files.ts';

test('resolveDeviceHome: GATEHOUSE_DEVICE_HOME, then $GATEHOUSE_HOME/device, then the per-user data dir', () => {
  const home = '/home/alice';
  assert.equal(
    resolveDeviceHome({ GATEHOUSE_DEVICE_HOME: '/srv/dev', GATEHOUSE_HOME: '/x' }, 'linux', home),
    '/srv/dev',
  );
  assert.equal(resolveDeviceHome({ GATEHOUSE_HOME: '/x/gh' }, 'linux', home), '/x/gh/device');
  assert.equal(
    resolveDeviceHome({ GATEHOUSE_DEVICE_HOME: '  ', GATEHOUSE_HOME: ' ' }, 'linux', home),
    '/home/alice/.local/share/gatehouse/device',
  );
  assert.equal(resolveDeviceHome({ XDG_DATA_HOME: '/data' }, 'linux', home), '/data/gatehouse/device');
  assert.equal(resolveDeviceHome({}, 'darwin', home), '/home/alice/Library/Application Support/Gatehouse/device');
  assert.equal(
    resolveDeviceHome({ LOCALAPPDATA: 'C:/Users/a/AppData/Local' }, 'win32', home),
    join('C:/Users/a/AppData/Local', 'Gatehouse', 'device'),
  );
  assert.equal(resolveDeviceHome({}, 'win32', home), join(home, 'AppData', 'Local', 'Gatehouse', 'device'));
});

test('without a home argument, $HOME of the given environment counts, not the process own', () => {
  assert.equal(resolveDeviceHome({ HOME: '/home/bob' }, 'linux'), '/home/bob/.local/share/gatehouse/device');
  assert.deepEqual(legacyDeviceDirs({ HOME: '/home/bob' }, 'linux'), [
    '/home/bob/.gatehouse/device',
    '/home/bob/.config/Gatehouse/device',
  ]);
});

test('gate and the desktop app resolve the same device store although their homes differ', () => {
  const env = { XDG_CONFIG_HOME: '/home/alice/.config' };
  const gateHome = resolveGatehouseHome(env, '/home/alice');
  const appHome = defaultAppHome(env, 'linux', '/home/alice');
  assert.notEqual(gateHome, appHome);
  assert.equal(resolveDeviceHome(env, 'linux', '/home/alice'), '/home/alice/.local/share/gatehouse/device');
  assert.deepEqual(legacyDeviceDirs(env, 'linux', '/home/alice'), [join(gateHome, 'device'), join(appHome, 'device')]);
});

function store(dir: string, files: Record<string, string>, mtime?: Date): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    if (mtime) utimesSync(join(dir, name), mtime, mtime);
  }
}

test('adoption copies the store with the newest enrollments.json, keeps the source, and logs it', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'gh-devhome-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const gate = join(root, 'gate', 'device');
  const app = join(root, 'app', 'device');
  const shared = join(root, 'shared', 'device');
  store(gate, { 'tpm-ak.json': 'gate-ak', 'enrollments.json': 'gate-enrollments' }, new Date('2026-01-01T00:00:00Z'));
  store(app, { 'tpm-ak.json': 'app-ak', 'enrollments.json': 'app-enrollments' }, new Date('2026-06-01T00:00:00Z'));
  const logged: string[] = [];
  const logger = { debug() {}, info: (m: string) => void logged.push(m), warn() {} };

  assert.deepEqual(adoptLegacyDeviceStore(shared, [gate, app], logger), { adoptedFrom: app });
  assert.equal(readFileSync(join(shared, 'enrollments.json'), 'utf8'), 'app-enrollments');
  assert.equal(readFileSync(join(shared, 'tpm-ak.json'), 'utf8'), 'app-ak');
  assert.equal(statSync(join(shared, 'tpm-ak.json')).mode & 0o777, 0o600);
  assert.equal(statSync(shared).mode & 0o777, 0o700);
  assert.ok(existsSync(join(app, 'tpm-ak.json')), 'copied, not moved');
  assert.match(logged.join('\n'), /adopted the device store/);

  // The shared store now has state: nothing is adopted again, even when a legacy store changes.
  store(gate, { 'enrollments.json': 'newer-gate' }, new Date('2027-01-01T00:00:00Z'));
  assert.deepEqual(adoptLegacyDeviceStore(shared, [gate, app], logger), {});
  assert.equal(readFileSync(join(shared, 'enrollments.json'), 'utf8'), 'app-enrollments');
});

test('adoption never overwrites a file already in the store, and does nothing without legacy state', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'gh-devhome-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const gate = join(root, 'gate');
  const shared = join(root, 'shared');
  assert.deepEqual(adoptLegacyDeviceStore(shared, [gate, join(root, 'none')]), {});
  assert.equal(existsSync(shared), false, 'no empty store is created');

  store(gate, {
    'tpm-ak.json': 'gate-ak',
    'enrollments.json': 'gate-enrollments',
    'trust-errors.json': 'gate-journal',
  });
  store(shared, { 'trust-errors.json': 'shared-journal' }); // a journal alone is not device state
  assert.deepEqual(adoptLegacyDeviceStore(shared, [gate]), { adoptedFrom: gate });
  assert.equal(readFileSync(join(shared, 'trust-errors.json'), 'utf8'), 'shared-journal');
  assert.equal(readFileSync(join(shared, 'tpm-ak.json'), 'utf8'), 'gate-ak');

  // A store that is its own legacy directory (GATEHOUSE_HOME set) adopts nothing.
  const own = join(root, 'own');
  store(own, {});
  assert.deepEqual(adoptLegacyDeviceStore(own, [own]), {});
});

test('an AK blob alone is adopted after any store that has enrollments', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'gh-devhome-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const akOnly = join(root, 'a');
  const enrolled = join(root, 'b');
  store(akOnly, { 'tpm-ak.json': 'a-ak' });
  store(enrolled, { 'tpm-ak.json': 'b-ak', 'enrollments.json': 'b' }, new Date('2020-01-01T00:00:00Z'));
  assert.deepEqual(adoptLegacyDeviceStore(join(root, 's'), [akOnly, enrolled]), { adoptedFrom: enrolled });
});
