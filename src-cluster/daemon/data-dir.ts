// Where a daemon keeps its data, and the name of the file in it that `gatectl` reads. Apart from
// config.ts and admin-identity.ts because gatectl needs only these two and must not load the
// config parser (yaml, zod) or the identity writer to find the cluster.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The admin identity `gatehouse start` writes into its data dir (see admin-identity.ts). */
export const ADMIN_IDENTITY_FILE = 'admin-identity.json';

/** $GATEHOUSE_DATA_DIR, else /var/lib/gatehouse as root, else ~/.local/share/gatehouse. */
export function defaultDataDir(): string {
  if (process.env.GATEHOUSE_DATA_DIR) return process.env.GATEHOUSE_DATA_DIR;
  return process.getuid?.() === 0 ? '/var/lib/gatehouse' : join(homedir(), '.local', 'share', 'gatehouse');
}
