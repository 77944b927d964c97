import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authServersOf, loadConfig, parseConfig, parseDurationMs } from './config.ts';

test('empty config gives the embedded defaults', () => {
  const c = parseConfig('', 'x');
  assert.equal(c.proxy.listen_addr, '127.0.0.1:3080');
  assert.equal(c.auth.second_factor, 'off');
  assert.equal(c.node.enabled, true);
  assert.ok(c.node.name.length > 0);
  assert.equal(
    c.auth.device_trust.ekpub_allowed,
    true,
    'EK-public-only enrollment allowed by default (Teleport-compatible)',
  );
});

test('auth.device_trust.ekpub_allowed takes a boolean', () => {
  assert.equal(
    parseConfig('auth:\n  device_trust:\n    ekpub_allowed: false\n', 'c.yaml').auth.device_trust.ekpub_allowed,
    false,
  );
  assert.throws(
    () => parseConfig('auth:\n  device_trust:\n    ekpub_allowed: maybe\n', 'c.yaml'),
    /c\.yaml: auth\.device_trust\.ekpub_allowed: .*\(line 3\)/,
  );
});

test('ssh_service.accept_env: LANG and LC_* by default; a list of its own; bad entries named with their line', () => {
  assert.deepEqual(parseConfig('', 'x').ssh_service.accept_env, ['LANG', 'LC_*']);
  assert.deepEqual(parseConfig('ssh_service:\n  accept_env: [LANG, GIT_*]\n', 'c.yaml').ssh_service.accept_env, [
    'LANG',
    'GIT_*',
  ]);
  assert.deepEqual(parseConfig('ssh_service: { accept_env: [] }\n', 'c.yaml').ssh_service.accept_env, []);
  assert.throws(
    () => parseConfig('ssh_service:\n  accept_env:\n    - LANG\n    - "*"\n', 'c.yaml'),
    /c\.yaml: ssh_service\.accept_env\.1: "\*" alone would accept every variable/,
  );
  assert.throws(
    () => parseConfig('ssh_service:\n  accept_env: ["LC_*_X"]\n', 'c.yaml'),
    /ssh_service\.accept_env\.0: "LC_\*_X" is not a variable name or a name prefix ending in one "\*"/,
  );
});

test('config errors name the field, the line and the allowed values', () => {
  assert.throws(
    () => parseConfig('auth:\n  second_factor: sms\n', 'c.yaml'),
    /c\.yaml: auth\.second_factor: .*"off".*"otp".*\(line 2\)/,
  );
  assert.throws(
    () => parseConfig('proxy:\n  enabled: true\n  listen: 1\n', 'c.yaml'),
    /c\.yaml: proxy\.listen: unknown field \(line 3\)/,
  );
  assert.throws(() => parseConfig('proxy: [', 'c.yaml'), /c\.yaml: invalid YAML/);
  assert.throws(() => parseConfig('node:\n  listen_addr: nope\n'), /node\.listen_addr: expected HOST:PORT \(line 2\)/);
});

test('durations', () => {
  assert.equal(parseDurationMs('1h30m'), 5_400_000);
  assert.equal(parseDurationMs('45s'), 45_000);
  assert.throws(() => parseDurationMs('soon'));
});

test('connection limits have explicit defaults and refuse 0 and nonsense', () => {
  const c = parseConfig('', 'x');
  assert.equal(c.proxy.handshake_timeout, '10s');
  assert.equal(c.proxy.idle_timeout, '1m');
  assert.equal(c.proxy.max_connections_per_ip, 100);
  assert.equal(c.node.login_grace_time, '1m');
  assert.equal(c.node.max_connections_per_ip, 100);
  const set = parseConfig('proxy:\n  handshake_timeout: 2s\n  idle_timeout: 3s\n  max_connections_per_ip: 5\n');
  assert.equal(parseDurationMs(set.proxy.handshake_timeout), 2000);
  assert.equal(set.proxy.max_connections_per_ip, 5);
  assert.throws(
    () => parseConfig('node:\n  login_grace_time: 0s\n'),
    /node\.login_grace_time: must be more than 0s \(line 2\)/,
  );
  assert.throws(
    () => parseConfig('proxy:\n  max_connections_per_ip: 0\n'),
    /proxy\.max_connections_per_ip: .*\(line 2\)/,
  );
});

test('auth.lockout: 5 attempts / 30m by default, configurable, limits named', () => {
  assert.deepEqual(parseConfig('', 'x').auth.lockout, { max_attempts: 5, duration: '30m' });
  const c = parseConfig('auth:\n  lockout: { max_attempts: 3, duration: 1h }\n', 'x');
  assert.deepEqual(c.auth.lockout, { max_attempts: 3, duration: '1h' });
  assert.throws(
    () => parseConfig('auth:\n  lockout:\n    max_attempts: 0\n', 'c.yaml'),
    /c\.yaml: auth\.lockout\.max_attempts: .*(>=|at least|too small).*1.* \(line 3\)/i,
  );
  assert.throws(
    () => parseConfig('auth:\n  lockout: { duration: soon }\n', 'c.yaml'),
    /auth\.lockout\.duration: expected a duration/,
  );
});

test('--roles replaces the enabled switches; a process without auth needs auth_server', () => {
  const cfg = loadConfig(undefined, { roles: 'proxy,node', authServer: 'auth.example:3025', dataDir: '/tmp/x' });
  assert.deepEqual([cfg.auth.enabled, cfg.proxy.enabled, cfg.node.enabled], [false, true, true]);
  assert.equal(cfg.auth_server, 'auth.example:3025');
  assert.throws(
    () => loadConfig(undefined, { roles: 'node' }),
    /without auth in this process, proxy, node, db and app services need auth_server/,
  );
  assert.throws(() => loadConfig(undefined, { roles: 'auth,wizard' }), /--roles: unknown role "wizard"/);
  assert.throws(
    () => loadConfig(undefined, { roles: 'node', authServer: 'nope' }),
    /--auth-server: expected HOST:PORT/,
  );
});

test('several auth servers: auth_servers in the file, or --auth-server comma-separated, in the order given', () => {
  const fromFile = parseConfig(
    'auth_server: a.example:3025\nauth_servers: [b.example:3025, a.example:3025]\n',
    'c.yaml',
  );
  assert.deepEqual(authServersOf(fromFile), ['a.example:3025', 'b.example:3025']);
  const fromFlag = loadConfig(undefined, { roles: 'proxy', authServer: 'x:1, y:2', dataDir: '/tmp/x' });
  assert.deepEqual(authServersOf(fromFlag), ['x:1', 'y:2']);
  assert.throws(
    () => loadConfig(undefined, { roles: 'proxy', authServer: 'x:1,y' }),
    /--auth-server: expected HOST:PORT, got "y"/,
  );
  assert.throws(() => parseConfig('auth_servers: []\n', 'c.yaml'), /auth_servers/);
  assert.throws(() => parseConfig('auth_servers: [nope]\n', 'c.yaml'), /auth_servers\.0: expected HOST:PORT/);
});

test('the join token comes from the flag, then $GATEHOUSE_JOIN_TOKEN, then join_token or join_token_file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
  const saved = process.env.GATEHOUSE_JOIN_TOKEN;
  try {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'from-file\n');
    const file = join(dir, 'c.yaml');
    writeFileSync(file, `auth_server: a:1\njoin_token_file: ${tokenFile}\nauth:\n  enabled: false\n`);
    delete process.env.GATEHOUSE_JOIN_TOKEN;
    assert.equal(loadConfig(file, {}).join_token, 'from-file');
    process.env.GATEHOUSE_JOIN_TOKEN = 'from-env';
    assert.equal(loadConfig(file, {}).join_token, 'from-env');
    assert.equal(loadConfig(file, { token: 'from-flag' }).join_token, 'from-flag');
    writeFileSync(file, `auth_server: a:1\njoin_token_file: ${join(dir, 'missing')}\nauth:\n  enabled: false\n`);
    delete process.env.GATEHOUSE_JOIN_TOKEN;
    assert.throws(() => loadConfig(file, {}), /cannot read join_token_file .*ENOENT/);
  } finally {
    if (saved === undefined) delete process.env.GATEHOUSE_JOIN_TOKEN;
    else process.env.GATEHOUSE_JOIN_TOKEN = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ca_pin must be a SHA256 fingerprint', () => {
  assert.throws(() => parseConfig('ca_pin: abc\n', 'c.yaml'), /ca_pin: expected SHA256:<64 hex digits>/);
  assert.equal(parseConfig(`ca_pin: SHA256:${'a'.repeat(64)}\n`).ca_pin, `SHA256:${'a'.repeat(64)}`);
});

test('ssh: algorithm lists default to unset; a list of its own; unknown algorithms named with the allowed ones', () => {
  const defaults = parseConfig('', 'x').ssh;
  assert.deepEqual(defaults, { fips: false }, 'no list given: the node takes src-shared/ssh-algorithms.ts defaults');
  const custom = parseConfig(
    'ssh:\n  kex_algorithms: [ecdh-sha2-nistp256]\n  ciphers: [aes256-gcm@openssh.com, aes128-ctr]\n  macs: [hmac-sha2-512-etm@openssh.com]\n  fips: true\n',
    'c.yaml',
  ).ssh;
  assert.deepEqual(custom, {
    kex_algorithms: ['ecdh-sha2-nistp256'],
    ciphers: ['aes256-gcm@openssh.com', 'aes128-ctr'],
    macs: ['hmac-sha2-512-etm@openssh.com'],
    fips: true,
  });
  assert.throws(
    () => parseConfig('ssh:\n  macs: [hmac-sha2-256-etm@openssh.com, hmac-sha1]\n', 'c.yaml'),
    /c\.yaml: ssh\.macs: unknown or refused algorithm "hmac-sha1"; allowed: hmac-sha2-256-etm@openssh\.com, hmac-sha2-512-etm@openssh\.com \(line 2\)/,
  );
  assert.throws(
    () => parseConfig('ssh:\n  ciphers: [aes128-cbc]\n', 'c.yaml'),
    /unknown or refused algorithm "aes128-cbc"; allowed: aes128-gcm@openssh\.com, aes256-gcm@openssh\.com, chacha20-poly1305@openssh\.com, aes128-ctr/,
  );
  assert.throws(
    () => parseConfig('ssh:\n  kex_algorithms: [diffie-hellman-group14-sha1]\n', 'c.yaml'),
    /ssh\.kex_algorithms: unknown or refused algorithm "diffie-hellman-group14-sha1"; allowed: curve25519-sha256, /,
  );
  assert.throws(() => parseConfig('ssh:\n  ciphers: []\n', 'c.yaml'), /ssh\.ciphers: the list is empty/);
  assert.throws(() => parseConfig('ssh:\n  compression: [zlib]\n', 'c.yaml'), /ssh\.compression: unknown field/);
});

test('diagnostics: off by default; diagnostics.listen_addr or --diag-addr turns it on', () => {
  assert.equal(parseConfig('', 'x').diagnostics.listen_addr, undefined);
  assert.equal(
    parseConfig('diagnostics:\n  listen_addr: 127.0.0.1:3000\n', 'x').diagnostics.listen_addr,
    '127.0.0.1:3000',
  );
  assert.throws(
    () => parseConfig('diagnostics:\n  listen_addr: nope\n', 'x'),
    /diagnostics\.listen_addr: expected HOST:PORT \(line 2\)/,
  );
  assert.throws(() => parseConfig('diagnostics:\n  tls: true\n', 'x'), /diagnostics\.tls: unknown field/);
  assert.equal(
    loadConfig(undefined, { diagAddr: '127.0.0.1:0', dataDir: '/tmp/x' }).diagnostics.listen_addr,
    '127.0.0.1:0',
  );
  assert.throws(
    () => loadConfig(undefined, { diagAddr: 'localhost', dataDir: '/tmp/x' }),
    /--diag-addr: expected HOST:PORT/,
  );
});
