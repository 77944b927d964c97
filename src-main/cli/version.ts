// The version `gate` reports: the package's, read at run time so there is one source of truth.
import { readFileSync } from 'node:fs';

export function gateVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
