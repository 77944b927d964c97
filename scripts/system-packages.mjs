#!/usr/bin/env node
// The Debian packages the tests need, in one list, and the step that brings them: `npm test` runs
// this first, and .ci/run calls it too, so a newcomer's `npm test` on a fresh Debian machine works
// without reading .ci/run. As root it installs what is missing with apt-get; otherwise it uses
// `sudo -n` when that needs no password, and else stops with the exact command to run.
//
//   node scripts/system-packages.mjs          install what is missing, then check
//   node scripts/system-packages.mjs --list   print the package names, one per line
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';

/** Each package with the reason the tests need it. */
export const TEST_PACKAGES = {
  'openssh-client': 'stock ssh / ssh-keygen for certificate interop',
  'openssh-server': 'stock sshd as a target for Gatehouse certificates',
  python3: 'node-gyp (native modules)',
  make: 'node-gyp (native modules)',
  'g++': 'node-gyp (native modules)',
  procps: 'ps / process checks in the daemon tests',
  chromium: 'the Playwright end-to-end suite (Debian Chromium, no browser download)',
  'fonts-dejavu-core': 'a font for Chromium screenshots',
  swtpm: 'a software TPM 2.0 for the device-trust tests',
  'swtpm-tools': 'swtpm_setup: EK certificates from a local CA',
  'tpm2-tools': 'cross-checks of every TPM step',
  'libtss2-dev': 'headers and libraries for the TPM addon (native/)',
  // Database access (issue 13): test-support/databases/ starts real servers with TLS and client certs.
  postgresql: 'PostgreSQL 15 server (postgresql-15: initdb, postgres, and pgbench for bench:db; no -contrib needed)',
  'postgresql-client-15': 'psql, the client the database tests and bench:db drive through the gateway',
  'mariadb-server': 'MariaDB 10.11 server (mariadbd, mariadb-install-db) for the MySQL-protocol tests',
  'mariadb-client': 'the mariadb / mysql client the MySQL-protocol tests drive through the gateway',
  // Application access (issue 14): test-support/apps/nginx.ts starts a real web app upstream.
  'nginx-light': "nginx as the app tests' and bench:app-access's upstream (static page, large file, proxied WebSocket)",
  curl: 'the HTTP client the app tests drive through `gate proxy app`',
  // Protocol hygiene (issue 18): the audit tools an outsider would run against a default cluster.
  'ssh-audit': "ssh-audit against the node's SSH listener (algorithms, banner)",
  'testssl.sh': "testssl against the proxy's TLS port (protocols, cipher suites)",
};

const APT_TIMEOUT_MS = 20 * 60_000;

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** How to run a command as root here: directly, through passwordless sudo, or not at all. */
function rootRunner() {
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync('sudo', ['-n', 'true']);
  return sudo.status === 0 ? ['sudo', '-n'] : undefined;
}

function run(prefix, argv) {
  const [cmd, ...args] = [...prefix, ...argv];
  const r = spawnSync(cmd, args, {
    stdio: 'inherit',
    timeout: APT_TIMEOUT_MS,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) {
    console.error(`system-packages: "${[cmd, ...args].join(' ')}" failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function main() {
  const names = Object.keys(TEST_PACKAGES);
  if (process.argv.includes('--list')) {
    console.log(names.join('\n'));
    return;
  }
  if (!existsSync('/usr/bin/dpkg-query')) {
    console.error('system-packages: this is not a Debian-based machine; install the equivalents of:');
    for (const [p, why] of Object.entries(TEST_PACKAGES)) console.error(`  ${p} — ${why}`);
    process.exit(1);
  }
  const missing = names.filter((p) => !installed(p));
  if (missing.length > 0) {
    const prefix = rootRunner();
    const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
    if (!prefix) {
      console.error(`system-packages: the tests need Debian packages that are missing: ${missing.join(', ')}`);
      console.error(`Run as root: apt-get update && ${command}`);
      process.exit(1);
    }
    console.log(`--- apt-get install ${missing.join(' ')}`);
    run(prefix, ['apt-get', 'update', '-qq']);
    run(prefix, ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
    const still = missing.filter((p) => !installed(p));
    if (still.length > 0) {
      console.error(`system-packages: still missing after apt-get: ${still.join(', ')}`);
      process.exit(1);
    }
  }
  // sshd refuses to start without its privilege-separation directory.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });
  // The TPM addon is skipped at `npm install` when libtss2-dev was missing then: build it now.
  // Not before `npm install` (a fresh clone, as in .ci/run): node-addon-api is not there yet, and
  // npm install's postinstall builds it anyway.
  const installedAlready = existsSync(new URL('../node_modules/node-addon-api/package.json', import.meta.url));
  if (installedAlready && !existsSync(new URL('../native/build/Release/gatehouse_tpm.node', import.meta.url))) {
    run([], [process.execPath, new URL('build-native.mjs', import.meta.url).pathname, 'tpm']);
  }
}

main();
