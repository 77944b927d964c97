// Where the desktop app keeps its data when nobody says: GATEHOUSE_HOME, else the directory
// Electron's app.getPath('userData') would give for "Gatehouse", so the Electron app and the
// browser host on one machine share clusters and logins. Pure: env, platform and home passed in.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function defaultAppHome(
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const fromEnv = env.GATEHOUSE_HOME?.trim();
  if (fromEnv) return resolve(fromEnv);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Gatehouse');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Gatehouse');
  return join(env.XDG_CONFIG_HOME?.trim() || join(home, '.config'), 'Gatehouse');
}
