// The device store: the TPM-wrapped AK blob and enrollments.json. It belongs to the machine and
// the OS user, not to a client, so `gate` and the desktop app (which keep their logins in homes
// of their own) see one device identity: enrolling with either makes both device-trusted.
// One rule (resolveDeviceHome) that both call, and a one-time adoption of the per-client stores
// that existed before the rule (adoptLegacyDeviceStore).
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { akBlobPath } from '../device/tpm/ak-store.ts';
import { ensurePrivateDir } from './files.ts';
import { silentLogger, type CoreLogger } from './types.ts';

export const ENROLLMENTS_FILE = 'enrollments.json';

/**
 * The home directory as `env` says (os.homedir() reads the process's own $HOME, which is not the
 * environment a caller passed): $HOME on Unix, else os.homedir().
 */
function homeOf(env: Record<string, string | undefined>, platform: NodeJS.Platform): string {
  return (platform !== 'win32' && env.HOME?.trim()) || homedir();
}

/**
 * GATEHOUSE_DEVICE_HOME, else $GATEHOUSE_HOME/device (a home isolated on purpose keeps everything
 * in it), else the per-user data directory of the platform + gatehouse/device.
 */
export function resolveDeviceHome(
  env: Record<string, string | undefined>,
  platform: NodeJS.Platform = process.platform,
  home: string = homeOf(env, platform),
): string {
  const explicit = env.GATEHOUSE_DEVICE_HOME?.trim();
  if (explicit) return resolve(explicit);
  const gatehouseHome = env.GATEHOUSE_HOME?.trim();
  if (gatehouseHome) return join(resolve(gatehouseHome), 'device');
  if (platform === 'win32') {
    return join(env.LOCALAPPDATA?.trim() || join(home, 'AppData', 'Local'), 'Gatehouse', 'device');
  }
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Gatehouse', 'device');
  return join(env.XDG_DATA_HOME?.trim() || join(home, '.local', 'share'), 'gatehouse', 'device');
}

/** The legacy per-client device stores, in the order the doc gives (gate's first). */
export function legacyDeviceDirs(
  env: Record<string, string | undefined>,
  platform: NodeJS.Platform = process.platform,
  home: string = homeOf(env, platform),
): string[] {
  const appHome =
    platform === 'darwin'
      ? join(home, 'Library', 'Application Support', 'Gatehouse')
      : platform === 'win32'
        ? join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Gatehouse')
        : join(env.XDG_CONFIG_HOME?.trim() || join(home, '.config'), 'Gatehouse');
  return [join(home, '.gatehouse', 'device'), join(appHome, 'device')];
}

function hasDeviceState(dir: string): boolean {
  return existsSync(akBlobPath(dir)) || existsSync(join(dir, ENROLLMENTS_FILE));
}

function enrollmentsMtime(dir: string): number {
  try {
    return statSync(join(dir, ENROLLMENTS_FILE)).mtimeMs;
  } catch {
    return -1; // an AK blob alone is still adoptable, after any store with enrollments
  }
}

/**
 * When `deviceHome` has neither an AK blob nor enrollments.json, copies (never moves: an older
 * client version may still read its own) the files of the legacy store with the newest
 * enrollments.json. Files already in `deviceHome` are never overwritten. Idempotent.
 */
export function adoptLegacyDeviceStore(
  deviceHome: string,
  legacyDirs: string[],
  logger: CoreLogger = silentLogger,
): { adoptedFrom?: string } {
  if (hasDeviceState(deviceHome)) return {};
  const self = resolve(deviceHome);
  const candidates = legacyDirs
    .map((d) => resolve(d))
    .filter((d) => d !== self && hasDeviceState(d))
    // Stable sort: equal times keep the documented order (gate's store first).
    .sort((a, b) => enrollmentsMtime(b) - enrollmentsMtime(a));
  const source = candidates[0];
  if (!source) return {};
  ensurePrivateDir(deviceHome);
  for (const name of readdirSync(source)) {
    const from = join(source, name);
    const to = join(deviceHome, name);
    if (!statSync(from).isFile() || existsSync(to)) continue;
    copyFileSync(from, to);
  }
  logger.info('adopted the device store of an earlier Gatehouse client', { from: source, to: deviceHome });
  return { adoptedFrom: source };
}
