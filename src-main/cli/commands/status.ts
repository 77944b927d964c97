// `gate status`, `gate logout`, `gate version`: local profile information, no network needed.
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { deviceTrustStatus, requirementLines, type DeviceTrustStatus } from '../../core/device-trust-status.ts';
import type { GatehouseClient } from '../../core/gatehouse-client.ts';
import { formatTimeLeft, timeLeftMs, type Profile } from '../../core/profiles.ts';
import { parseProxyAddress } from '../../core/proxy-address.ts';
import type { CommandContext } from '../context.ts';
import { print } from '../io.ts';
import { clientVersion } from '../../core/version.ts';

/** "2026-11-26 15:32:12 UTC [valid for 11h 59m]" or "... [EXPIRED]". */
export function validityText(profile: Profile, now: Date): string {
  const until = new Date(profile.validUntil)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  const left = timeLeftMs(profile, now);
  return `${until} [${left > 0 ? `valid for ${formatTimeLeft(left)}` : 'EXPIRED'}]`;
}

/** From the stored certificates' device fields (see Profile.device). */
export function deviceTrustRow(profile: Profile): string {
  const d = profile.device;
  if (!d) return profile.deviceTrustRequired ? 'not device-trusted (required)' : 'not device-trusted';
  return `device-trusted (device "${d.assetTag}"${d.osType ? `/${d.osType}` : ''}, id ${d.deviceId})`;
}

/** The profile's device trust as `gate` reports it; a damaged enrollment file counts as not enrolled. */
export function profileTrust(core: Pick<GatehouseClient, 'device'>, profile: Profile): DeviceTrustStatus {
  let enrollment;
  try {
    enrollment = core.device.enrollmentFor(profile);
  } catch {
    enrollment = undefined;
  }
  return deviceTrustStatus(profile, enrollment);
}

/**
 * `withDeviceRow: false` where the caller prints the device trust outcome itself (gate login).
 * With `trust`, a device-required login that is not trusted gets the requirement and next step.
 */
export function profileLines(
  profile: Profile,
  now: Date,
  current: boolean,
  withDeviceRow = true,
  trust?: DeviceTrustStatus,
): string[] {
  const rows: [string, string][] = [
    ['Proxy:', profile.proxy],
    ['Logged in as:', profile.user],
    ['Cluster:', profile.cluster],
    ['Roles:', profile.roles.join(', ') || '(none)'],
    ['Logins:', profile.logins.join(', ') || '(none)'],
    ['Valid until:', validityText(profile, now)],
    ...(withDeviceRow ? [['Device trust:', deviceTrustRow(profile)] as [string, string]] : []),
  ];
  const lines = rows.map(([k, v], i) => `${i === 0 ? (current ? '> ' : '  ') : '  '}${k.padEnd(14)}${v}`);
  if (withDeviceRow && trust) lines.push(...requirementLines(trust).map((l) => `${' '.repeat(16)}${l}`));
  return lines;
}

/** `gate status`. */
export async function status(ctx: CommandContext): Promise<number> {
  const now = ctx.core.clock();
  const current = ctx.core.profiles.requireCurrent();
  print(ctx.io, profileLines(current, now, true, true, profileTrust(ctx.core, current)).join('\n'));
  const others = ctx.core.profiles.list().filter((p) => !(p.proxy === current.proxy && p.user === current.user));
  if (others.length > 0) {
    print(ctx.io);
    print(ctx.io, 'Other profiles:');
    for (const p of others)
      print(ctx.io, profileLines(p, now, false, true, profileTrust(ctx.core, p)).join('\n') + '\n');
  }
  return 0;
}

export interface LogoutOptions {
  proxy?: string;
  user?: string;
  all?: boolean;
}

/** `gate logout`: the current login, the one --proxy/--user name, or --all. */
export async function logout(ctx: CommandContext, values: LogoutOptions): Promise<number> {
  const profiles = ctx.core.profiles;
  if (values.all) {
    const all = profiles.list();
    for (const p of all) ctx.core.logout(p);
    print(
      ctx.io,
      all.length ? `Logged out of ${all.length} profile${all.length === 1 ? '' : 's'}.` : 'No stored logins.',
    );
    return 0;
  }
  let target: { proxy: string; user: string } | undefined;
  if (values.proxy || values.user) {
    const cur = profiles.current();
    const proxy = values.proxy ? parseProxyAddress(values.proxy).address : cur?.proxy;
    const user = values.user ?? cur?.user;
    if (!proxy || !user) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'name both --proxy and --user');
    target = { proxy, user };
  } else {
    target = profiles.requireCurrent();
  }
  if (!ctx.core.logout(target)) {
    throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, `no stored login for ${target.user} at ${target.proxy}`);
  }
  print(ctx.io, `Logged out ${target.user} from ${target.proxy}.`);
  return 0;
}

/** `gate version` (also `gate --version`). */
export async function version(ctx: CommandContext): Promise<number> {
  print(ctx.io, `gate ${clientVersion()}`);
  return 0;
}
