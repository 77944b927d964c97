// Device data collection on Linux: what the cluster records about a device at enrollment and
// every device authentication (OS, model, serial/asset tag, host and user names).
//
// Serial/asset tag: DMI chassis_asset_tag → product_serial → board_serial, the first one that is
// not empty and not a vendor placeholder. product_serial and board_serial are root-only, so a
// normal user gets EACCES: we then use what `gate device collect --privileged` (run as root)
// cached, or fail with an explanation — never fall through to a lower-priority source, since
// that would report a different serial than a root read and break the asset-tag match.
// Machines without any DMI (cloud VMs, containers) or with only placeholders get a serial derived
// from /etc/machine-id, reported as serial_source 'machine-id' with a note: such devices can still
// be registered and enrolled, and the TPM credential is what binds them afterwards.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { writeFileAtomicSync } from '../../src-shared/atomic-write.ts';

export const DMI_DIR = '/sys/class/dmi/id';
export const MACHINE_ID_PATH = '/etc/machine-id';
export const DEFAULT_DMI_CACHE_PATH = '/var/cache/gatehouse/dmi-serials.json';

/** Serial sources in priority order. */
export const SERIAL_FIELDS = ['chassis_asset_tag', 'product_serial', 'board_serial'] as const;
export type SerialField = (typeof SERIAL_FIELDS)[number];
export type SerialSource = `dmi:${SerialField}` | 'cached-privileged-read' | 'machine-id';

export interface CollectedDeviceData {
  collect_time: string;
  os_type: 'linux';
  os_id: string;
  os_version: string;
  os_version_id?: string;
  os_build?: string;
  hostname: string;
  os_username: string;
  model?: string;
  serial_number: string;
  serial_source: SerialSource;
  /** Why the serial came from where it did, when that is not the plain DMI read. */
  serial_note?: string;
}

/** What a root read of the DMI serial files found; written by `gate device collect --privileged`. */
export interface DmiSerialCache {
  version: 1;
  read_time: string;
  /** null: the file is absent on this machine. */
  values: Record<SerialField, string | null>;
}

/** The file system as collect sees it; throws Node errno errors (ENOENT, EACCES) like node:fs. */
export interface CollectFs {
  readFile(path: string): string;
  exists(path: string): boolean;
}

export interface CollectDeps {
  fs: CollectFs;
  env: Record<string, string | undefined>;
  now?: () => Date;
  hostname?: () => string;
  username?: () => string;
  /** Where --privileged caches the serials; default $GATEHOUSE_DMI_CACHE or DEFAULT_DMI_CACHE_PATH. */
  dmiCachePath?: string;
}

const PLACEHOLDERS = new Set(
  [
    'default string',
    'to be filled by o.e.m.',
    'to be filled by oem',
    'not specified',
    'not applicable',
    'not available',
    'none',
    'n/a',
    'na',
    'unknown',
    'invalid',
    'default',
    'oem',
    'o.e.m.',
    'system serial number',
    'chassis serial number',
    'base board serial number',
    'serial number',
    'asset tag',
    'asset-1234567890',
    'no asset tag',
    'no asset information',
    '123456789',
    '1234567890',
  ].map((s) => s.toLowerCase()),
);

/** Empty, a vendor placeholder, or filler such as "0", "00000000", "xxxx", "....". */
export function isPlaceholderSerial(value: string): boolean {
  const v = value.trim().toLowerCase();
  return v === '' || PLACEHOLDERS.has(v) || /^([0x.\-_ ])\1*$/.test(v);
}

export function dmiCachePath(deps: Pick<CollectDeps, 'env' | 'dmiCachePath'>): string {
  return deps.dmiCachePath ?? deps.env.GATEHOUSE_DMI_CACHE ?? DEFAULT_DMI_CACHE_PATH;
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException)?.code;

type DmiRead = { kind: 'value'; value: string } | { kind: 'absent' } | { kind: 'denied' };

function readDmi(fs: CollectFs, field: string): DmiRead {
  try {
    return { kind: 'value', value: fs.readFile(`${DMI_DIR}/${field}`).trim() };
  } catch (e) {
    const code = errno(e);
    if (code === 'EACCES' || code === 'EPERM') return { kind: 'denied' };
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'EIO') return { kind: 'absent' };
    throw e;
  }
}

/** Parses os-release(5): KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\(["\\$`])/g, '$1');
    }
    out[m[1]!] = v;
  }
  return out;
}

function readOsRelease(fs: CollectFs): Record<string, string> {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return parseOsRelease(fs.readFile(path));
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
  }
  return {};
}

/** The real file system. */
export const nodeCollectFs: CollectFs = {
  readFile: (path) => readFileSync(path, 'utf8'),
  exists: (path) => existsSync(path),
};

/**
 * Writes the privileged read for later unprivileged runs. World-readable (0644) on purpose: the
 * serial is not a secret (it is sent to the cluster and printed on the case); only root writes it.
 */
export function writeDmiCache(path: string, cache: DmiSerialCache): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  writeFileAtomicSync(path, JSON.stringify(cache, null, 2) + '\n', { mode: 0o644 });
}

export function readDmiCache(fs: CollectFs, path: string): DmiSerialCache | null {
  let raw: string;
  try {
    raw = fs.readFile(path);
  } catch {
    return null;
  }
  try {
    const json = JSON.parse(raw) as DmiSerialCache;
    if (json?.version !== 1 || typeof json.values !== 'object' || json.values === null) return null;
    for (const f of SERIAL_FIELDS) {
      const v = json.values[f];
      if (v !== null && typeof v !== 'string') return null;
    }
    return json;
  } catch {
    return null;
  }
}

/** What root sees in the DMI serial files; the content of the --privileged cache. */
export function readDmiSerialsAsRoot(deps: Pick<CollectDeps, 'fs' | 'now'>): DmiSerialCache {
  const values = {} as Record<SerialField, string | null>;
  for (const f of SERIAL_FIELDS) {
    const r = readDmi(deps.fs, f);
    if (r.kind === 'denied') {
      throw new GatehouseError(
        ErrorCode.ACCESS_DENIED,
        `cannot read ${DMI_DIR}/${f} even with --privileged: run it as root`,
        {
          reason: 'DMI_SERIAL_NEEDS_ROOT',
        },
      );
    }
    values[f] = r.kind === 'value' ? r.value : null;
  }
  return { version: 1, read_time: (deps.now?.() ?? new Date()).toISOString(), values };
}

function machineIdSerial(
  fs: CollectFs,
  why: string,
): Pick<CollectedDeviceData, 'serial_number' | 'serial_source' | 'serial_note'> {
  let id: string;
  try {
    id = fs.readFile(MACHINE_ID_PATH).trim();
  } catch (e) {
    throw new GatehouseError(
      ErrorCode.CONFIG,
      `${why}, and ${MACHINE_ID_PATH} cannot be read (${errno(e) ?? (e as Error).message}) to derive a stable device serial ` +
        'instead: create it with `systemd-machine-id-setup` (or `dbus-uuidgen --ensure=/etc/machine-id`)',
      { reason: 'NO_DEVICE_SERIAL' },
    );
  }
  if (!/^[0-9a-f]{32}$/i.test(id)) {
    throw new GatehouseError(
      ErrorCode.CONFIG,
      `${why}, and ${MACHINE_ID_PATH} does not hold a machine id ("${id.slice(0, 40)}"): recreate it with \`systemd-machine-id-setup\``,
      { reason: 'NO_DEVICE_SERIAL' },
    );
  }
  // Hashed, not sent as is: machine-id(5) asks that the raw id not leave the machine.
  const digest = createHash('sha256').update(id.toLowerCase()).digest('hex');
  return {
    serial_number: `machine-id:${digest.slice(0, 16)}`,
    serial_source: 'machine-id',
    serial_note: `${why}; the serial is derived from ${MACHINE_ID_PATH} (first 16 hex digits of its SHA-256). Register the device with this asset tag.`,
  };
}

function chooseSerial(deps: CollectDeps): Pick<CollectedDeviceData, 'serial_number' | 'serial_source' | 'serial_note'> {
  const { fs } = deps;
  if (!fs.exists(DMI_DIR)) return machineIdSerial(fs, `this machine has no DMI data (${DMI_DIR} does not exist)`);
  let cache: DmiSerialCache | null | undefined;
  for (const field of SERIAL_FIELDS) {
    const r = readDmi(fs, field);
    if (r.kind === 'absent') continue;
    if (r.kind === 'value') {
      if (!isPlaceholderSerial(r.value)) return { serial_number: r.value, serial_source: `dmi:${field}` };
      continue;
    }
    const path = dmiCachePath(deps);
    cache ??= readDmiCache(fs, path);
    if (!cache) {
      throw new GatehouseError(
        ErrorCode.ACCESS_DENIED,
        `${DMI_DIR}/${field} is readable by root only and no privileged read is cached at ${path}: ` +
          'run `sudo gate device collect --privileged` once, then retry',
        { reason: 'DMI_SERIAL_NEEDS_ROOT', field, cachePath: path },
      );
    }
    const value = cache.values[field];
    if (value !== null && !isPlaceholderSerial(value)) {
      return {
        serial_number: value.trim(),
        serial_source: 'cached-privileged-read',
        serial_note: `${field} read by root at ${cache.read_time} (cached in ${path})`,
      };
    }
  }
  return machineIdSerial(fs, `no usable DMI serial (${SERIAL_FIELDS.join(', ')} are empty or placeholders)`);
}

function defaultUsername(env: Record<string, string | undefined>): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? '';
  }
}

/** Collects this machine's device data. Throws a coded GatehouseError rather than send no serial. */
export function collectDeviceData(deps: CollectDeps): CollectedDeviceData {
  const osr = readOsRelease(deps.fs);
  const serial = chooseSerial(deps);
  let model: string | undefined;
  const product = readDmi(deps.fs, 'product_name');
  if (product.kind === 'value' && !isPlaceholderSerial(product.value)) model = product.value;
  return {
    collect_time: (deps.now?.() ?? new Date()).toISOString(),
    os_type: 'linux',
    os_id: osr.ID || 'linux',
    os_version: osr.VERSION || osr.VERSION_ID || '',
    ...(osr.VERSION_ID ? { os_version_id: osr.VERSION_ID } : {}),
    ...(osr.BUILD_ID ? { os_build: osr.BUILD_ID } : {}),
    hostname: deps.hostname?.() ?? hostname(),
    os_username: deps.username?.() ?? defaultUsername(deps.env),
    ...(model ? { model } : {}),
    ...serial,
  };
}
