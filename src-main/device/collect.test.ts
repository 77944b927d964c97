import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import {
  collectDeviceData,
  isPlaceholderSerial,
  parseOsRelease,
  readDmiSerialsAsRoot,
  writeDmiCache,
  type CollectFs,
  type DmiSerialCache,
} from './collect.ts';

const DMI = '/sys/class/dmi/id';
const CACHE = '/var/cache/test/dmi.json';
const MACHINE_ID = '3d1219c7c4c5404aaa1f6d2a48adfda4';
const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
`;

type Entry = string | 'EACCES';
/** A fake file system: path → content, or 'EACCES' for a root-only file; directories implied. */
function fakeFs(files: Record<string, Entry>): CollectFs {
  const err = (code: string, path: string) => Object.assign(new Error(`${code}: ${path}`), { code });
  return {
    readFile(path) {
      const v = files[path];
      if (v === undefined) throw err('ENOENT', path);
      if (v === 'EACCES') throw err('EACCES', path);
      return v;
    },
    exists: (path) => Object.keys(files).some((p) => p === path || p.startsWith(path + '/')),
  };
}

const base = (extra: Record<string, Entry>) =>
  fakeFs({ '/etc/os-release': OS_RELEASE, '/etc/machine-id': MACHINE_ID + '\n', ...extra });

const collect = (fs: CollectFs) =>
  collectDeviceData({
    fs,
    env: {},
    dmiCachePath: CACHE,
    now: () => new Date('2026-11-26T05:00:00Z'),
    hostname: () => 'host1',
    username: () => 'alice',
  });

const cacheJson = (values: Partial<DmiSerialCache['values']>) =>
  JSON.stringify({
    version: 1,
    read_time: '2026-11-25T10:00:00.000Z',
    values: { chassis_asset_tag: null, product_serial: null, board_serial: null, ...values },
  });

function expectCoded(fn: () => unknown, code: ErrorCode, text: RegExp): GatehouseError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof GatehouseError, `expected a GatehouseError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.match(caught.message, text);
  return caught;
}

describe('collectDeviceData', () => {
  it('reports OS, host, user and model, and takes chassis_asset_tag first', () => {
    const d = collect(
      base({
        [`${DMI}/product_name`]: 'ThinkPad X1\n',
        [`${DMI}/chassis_asset_tag`]: 'ASSET-42\n',
        [`${DMI}/product_serial`]: 'PS-1',
        [`${DMI}/board_serial`]: 'BS-1',
      }),
    );
    assert.deepEqual(d, {
      collect_time: '2026-11-26T05:00:00.000Z',
      os_type: 'linux',
      os_id: 'debian',
      os_version: '12 (bookworm)',
      os_version_id: '12',
      hostname: 'host1',
      os_username: 'alice',
      model: 'ThinkPad X1',
      serial_number: 'ASSET-42',
      serial_source: 'dmi:chassis_asset_tag',
    });
  });

  it('skips empty and placeholder values (any case) down the priority list', () => {
    const d = collect(
      base({
        [`${DMI}/product_name`]: 'System Product Name',
        [`${DMI}/chassis_asset_tag`]: 'default STRING',
        [`${DMI}/product_serial`]: '   ',
        [`${DMI}/board_serial`]: 'MB-778899',
      }),
    );
    assert.equal(d.serial_number, 'MB-778899');
    assert.equal(d.serial_source, 'dmi:board_serial');
    assert.equal(d.serial_note, undefined);
    assert.equal(d.model, 'System Product Name', 'a model name is not a serial placeholder');

    const d2 = collect(
      base({ [`${DMI}/chassis_asset_tag`]: 'To Be Filled By O.E.M.', [`${DMI}/product_serial`]: 'PF1ABCDE' }),
    );
    assert.equal(d2.serial_source, 'dmi:product_serial');
    assert.equal(d2.serial_number, 'PF1ABCDE');
  });

  it('uses the cached privileged read when a serial file is root-only', () => {
    const d = collect(
      base({
        [`${DMI}/chassis_asset_tag`]: 'Not Specified',
        [`${DMI}/product_serial`]: 'EACCES',
        [`${DMI}/board_serial`]: 'EACCES',
        [CACHE]: cacheJson({ chassis_asset_tag: 'Not Specified', product_serial: 'PS-ROOT-1', board_serial: 'BS' }),
      }),
    );
    assert.equal(d.serial_number, 'PS-ROOT-1');
    assert.equal(d.serial_source, 'cached-privileged-read');
    assert.match(d.serial_note!, /product_serial read by root at 2026-11-25T10:00:00.000Z/);
  });

  it('goes to the next cached field when the cached value is a placeholder', () => {
    const d = collect(
      base({
        [`${DMI}/product_serial`]: 'EACCES',
        [`${DMI}/board_serial`]: 'EACCES',
        [CACHE]: cacheJson({ product_serial: 'System Serial Number', board_serial: 'BS-9' }),
      }),
    );
    assert.equal(d.serial_number, 'BS-9');
    assert.equal(d.serial_source, 'cached-privileged-read');
  });

  it('fails with a coded error and advice when a root-only serial has no cached read', () => {
    const err = expectCoded(
      () =>
        collect(
          base({
            [`${DMI}/chassis_asset_tag`]: '',
            [`${DMI}/product_serial`]: 'EACCES',
            [`${DMI}/board_serial`]: 'BOARD-READABLE',
          }),
        ),
      ErrorCode.ACCESS_DENIED,
      /product_serial is readable by root only.*sudo gate device collect --privileged/,
    );
    assert.equal(err.details?.reason, 'DMI_SERIAL_NEEDS_ROOT');
    assert.equal(err.details?.cachePath, CACHE);
  });

  it('treats a corrupt cache like a missing one', () => {
    expectCoded(
      () =>
        collect(base({ [`${DMI}/product_serial`]: 'EACCES', [CACHE]: '{"version":1,"values":{"product_serial":7}}' })),
      ErrorCode.ACCESS_DENIED,
      /no privileged read is cached/,
    );
  });

  it('falls back to a machine-id serial when there is no DMI at all', () => {
    const d = collect(base({}));
    const expected = createHash('sha256').update(MACHINE_ID).digest('hex').slice(0, 16);
    assert.equal(d.serial_number, `machine-id:${expected}`);
    assert.equal(d.serial_source, 'machine-id');
    assert.match(d.serial_note!, /no DMI data \(\/sys\/class\/dmi\/id does not exist\)/);
    assert.equal(d.model, undefined);
    assert.ok(!d.serial_number.includes(MACHINE_ID.slice(0, 16)), 'the raw machine id is not sent');
  });

  it('falls back to machine-id when DMI holds only placeholders', () => {
    const d = collect(
      base({
        [`${DMI}/chassis_asset_tag`]: 'None',
        [`${DMI}/product_serial`]: '0',
        [`${DMI}/board_serial`]: 'Not Applicable',
      }),
    );
    assert.equal(d.serial_source, 'machine-id');
    assert.match(d.serial_note!, /no usable DMI serial/);
  });

  it('fails with a coded error when there is neither DMI nor a machine-id', () => {
    const err = expectCoded(
      () => collect(fakeFs({ '/etc/os-release': OS_RELEASE })),
      ErrorCode.CONFIG,
      /no DMI data.*\/etc\/machine-id cannot be read \(ENOENT\).*systemd-machine-id-setup/,
    );
    assert.equal(err.details?.reason, 'NO_DEVICE_SERIAL');
    expectCoded(
      () => collect(fakeFs({ '/etc/os-release': OS_RELEASE, '/etc/machine-id': 'uninitialized\n' })),
      ErrorCode.CONFIG,
      /does not hold a machine id/,
    );
  });

  it('reads /usr/lib/os-release when /etc/os-release is missing, and defaults ID to linux', () => {
    const fs = fakeFs({
      '/usr/lib/os-release': 'ID=fedora\nVERSION_ID=41\nBUILD_ID=20261101\n',
      '/etc/machine-id': MACHINE_ID,
    });
    const d = collect(fs);
    assert.equal(d.os_id, 'fedora');
    assert.equal(d.os_version, '41');
    assert.equal(d.os_build, '20261101');
    assert.equal(collect(fakeFs({ '/etc/machine-id': MACHINE_ID })).os_id, 'linux');
  });
});

describe('helpers', () => {
  it('recognises placeholders case-insensitively and keeps real serials', () => {
    for (const p of [
      '',
      ' ',
      'Default string',
      'TO BE FILLED BY O.E.M.',
      'not specified',
      'None',
      'System Serial Number',
      '0',
      '00000000',
      'Not Applicable',
      'xxxxxxxx',
    ]) {
      assert.ok(isPlaceholderSerial(p), `placeholder: "${p}"`);
    }
    for (const s of ['PF1ABCDE', 'C02XK0ABJGH5', '0A1B', 'X1']) assert.ok(!isPlaceholderSerial(s), `real: "${s}"`);
  });

  it('parses quoted os-release values with escapes', () => {
    assert.deepEqual(parseOsRelease('# c\nNAME="A \\"B\\""\nID=\'x\'\nBAD LINE\n'), { NAME: 'A "B"', ID: 'x' });
  });

  it('the privileged read records every field and the cache file is written 0644', () => {
    const cache = readDmiSerialsAsRoot({
      fs: fakeFs({ [`${DMI}/chassis_asset_tag`]: 'A1\n', [`${DMI}/product_serial`]: 'P1' }),
      now: () => new Date('2026-01-01T00:00:00Z'),
    });
    assert.deepEqual(cache, {
      version: 1,
      read_time: '2026-01-01T00:00:00.000Z',
      values: { chassis_asset_tag: 'A1', product_serial: 'P1', board_serial: null },
    });
    expectCoded(
      () => readDmiSerialsAsRoot({ fs: fakeFs({ [`${DMI}/product_serial`]: 'EACCES' }) }),
      ErrorCode.ACCESS_DENIED,
      /run it as root/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-dmi-'));
    try {
      const path = join(dir, 'sub', 'dmi.json');
      writeDmiCache(path, cache);
      assert.equal(statSync(path).mode & 0o777, 0o644);
      assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), cache);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
