// The version the client reports (`gate --version`, `gate status`, the desktop app's app.info):
// the package's, read at run time so there is one source of truth. It lives in core because
// every client surface above core needs it and none of them may import another.
import { readFileSync } from 'node:fs';

export function clientVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
