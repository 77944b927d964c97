// The TPM probe's states, each with a concrete reason and fix: no device node, no permission
// (the errno mapping at the unit level: tests run as root, and root opens a 0000 device node),
// addon or libtss2 not loading, other failures; the cache answers from memory until refresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { classifyTpmFailure, probeTpm, TpmProbeCache, tctiDevicePath, type ProbeTarget } from './tpm-probe.ts';

test('tctiDevicePath: device TCTIs name their node; others have none', () => {
  assert.equal(tctiDevicePath('device'), '/dev/tpmrm0');
  assert.equal(tctiDevicePath('device:'), '/dev/tpmrm0');
  assert.equal(tctiDevicePath('device:/dev/tpm0'), '/dev/tpm0');
  assert.equal(tctiDevicePath('swtpm:host=127.0.0.1,port=2321'), undefined);
});

test('a missing device node is "missing" with the firmware hint', () => {
  const p = classifyTpmFailure(
    'device:/dev/tpmrm0',
    new GatehouseError(ErrorCode.TPM_UNAVAILABLE, 'no TPM device at /dev/tpmrm0: No such file or directory'),
    () => false,
  );
  assert.equal(p.state, 'missing');
  assert.equal(p.code, ErrorCode.TPM_UNAVAILABLE);
  assert.match(
    p.reason!,
    /\/dev\/tpmrm0 does not exist: this computer has no TPM 2\.0, or it is off in the firmware settings/,
  );
  assert.match(p.fix!, /firmware settings/);
});

test('EACCES (from the addon or as a raw errno) is "no-permission" with the tss group and udev fix', () => {
  for (const e of [
    new GatehouseError(ErrorCode.TPM_PERMISSION_DENIED, 'Failed to open the TPM device /dev/tpmrm0.'),
    Object.assign(new Error('open /dev/tpmrm0'), { code: 'EACCES' }),
    Object.assign(new Error('open /dev/tpmrm0'), { code: 'EPERM' }),
  ]) {
    const p = classifyTpmFailure('device:/dev/tpmrm0', e, () => true);
    assert.equal(p.state, 'no-permission', String(e));
    assert.equal(p.code, ErrorCode.TPM_PERMISSION_DENIED);
    assert.match(p.fix!, /sudo usermod -aG tss \$USER, then log out and in/);
    assert.match(p.fix!, /60-tpm-udev\.rules/);
  }
});

test('an addon or libtss2 that does not load is "library-missing"; an unsupported OS is an error', () => {
  const notBuilt = classifyTpmFailure(
    'device:/dev/tpmrm0',
    new GatehouseError(ErrorCode.TPM_NOT_SUPPORTED, 'the TPM addon is not built', { path: '/x.node' }),
    () => true,
  );
  assert.equal(notBuilt.state, 'library-missing');
  assert.match(notBuilt.fix!, /libtss2-esys-3\.0\.2-0/);
  const tcti = classifyTpmFailure(
    'swtpm:port=1',
    new GatehouseError(
      ErrorCode.TPM_UNAVAILABLE,
      'cannot reach the TPM: libtss2-tcti-swtpm.so.0: cannot open shared object file',
    ),
  );
  assert.equal(tcti.state, 'library-missing');
  const os = classifyTpmFailure(
    'device',
    new GatehouseError(ErrorCode.TPM_NOT_SUPPORTED, 'not supported on darwin', { platform: 'darwin' }),
  );
  assert.equal(os.state, 'error');
  const other = classifyTpmFailure('swtpm:port=1', new GatehouseError(ErrorCode.TPM_UNAVAILABLE, 'no TPM answers'));
  assert.equal(other.state, 'error');
  assert.match(other.fix!, /is running/);
});

function target(over: Partial<ProbeTarget> = {}): ProbeTarget & { closed: number } {
  const t = {
    closed: 0,
    tcti: 'swtpm:port=1',
    open: async () => ({
      info: async () => ({ manufacturer: 'IBM', vendor: 'SW   TPM', firmwareVersion: '1.2.3.4' }),
      ekCertificate: async () => Buffer.from('der'),
      close: async () => void t.closed++,
    }),
    ...over,
  };
  return t;
}

test('probeTpm: present with the TPM facts; a failing read still closes the TPM', async () => {
  const ok = target({ storedAkPublic: () => Buffer.from([0, 3, 1, 2, 3]) });
  const p = await probeTpm(ok);
  assert.equal(p.state, 'present');
  assert.equal(p.manufacturer, 'IBM');
  assert.equal(p.firmwareVersion, '1.2.3.4');
  assert.equal(p.ekCertificate, true);
  assert.match(p.credentialId!, /^[0-9a-f]{64}$/);
  assert.equal(ok.closed, 1);

  const failing = target();
  failing.open = async () => ({
    info: async () => Promise.reject(new GatehouseError(ErrorCode.TPM_ERROR, 'GetCapability failed')),
    ekCertificate: async () => null,
    close: async () => void failing.closed++,
  });
  const f = await probeTpm(failing);
  assert.equal(f.state, 'error');
  assert.equal(f.reason, 'GetCapability failed');
  assert.equal(failing.closed, 1);
});

test('TpmProbeCache: one probe for concurrent callers, cached after, again on refresh', async () => {
  let probes = 0;
  let clock = 0;
  const cache = new TpmProbeCache(
    async () => {
      probes++;
      clock += 40;
      return { state: 'present', tcti: 't' };
    },
    () => clock,
  );
  const [a, b] = await Promise.all([cache.get(), cache.get()]);
  assert.equal(probes, 1);
  assert.equal(a.cached, false);
  assert.equal(a.ms, 40);
  assert.equal(b.cached, true);
  const c = await cache.get();
  assert.deepEqual([c.cached, c.ms, probes], [true, 0, 1]);
  const d = await cache.get({ refresh: true });
  assert.deepEqual([d.cached, probes], [false, 2]);
  cache.invalidate();
  assert.equal((await cache.get()).cached, false);
});
