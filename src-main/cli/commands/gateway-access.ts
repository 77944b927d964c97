// The route access a `gate proxy db|app` gateway reads for each connection: the current login's
// proxy, CA, key and certificates. Shared by the database and app gateway commands.
import { statSync } from 'node:fs';
import { isExpired, type Profile } from '../../core/profiles.ts';
import { profileRouteAccess, type RouteAccess } from '../../gateways/gateway-service.ts';
import type { CommandContext } from '../context.ts';

/**
 * The login's route access for each connection, re-read only when the login's files change:
 * reading and parsing the profile, key and certificates cost ~2 ms a connection. A `gate login`
 * while this runs rewrites them (new inode and time), so it is still picked up without a
 * restart; expiry is checked on every connection, as proxyAccess does.
 */
export function loginAccess(ctx: CommandContext, profile: Profile): () => RouteAccess {
  const { core } = ctx;
  let cached: { stamp: string; profile: Profile; access: RouteAccess } | undefined;
  return () => {
    const paths = core.profiles.paths(profile.proxy, profile.user);
    const stamp = [paths.profileJson, paths.key, paths.tlsCert, paths.sshCert].map(fileStamp).join('|');
    if (cached?.stamp === stamp && !isExpired(cached.profile, core.clock())) return cached.access;
    const current = reloaded(ctx, profile);
    cached = { stamp, profile: current, access: profileRouteAccess(core.proxyAccess(current)) };
    return cached.access;
  };
}

function fileStamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

export function reloaded(ctx: CommandContext, profile: Profile): Profile {
  return ctx.core.profiles.load(profile.proxy, profile.user) ?? profile;
}
