// The `gatehouse` binary's command line: help, version and refused arguments exit with the
// codes scripts and service managers see, before any listener starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const GATEHOUSE = fileURLToPath(new URL('../../bin/gatehouse.mjs', import.meta.url));

function gatehouse(args: string[], dataDir: string) {
  const r = spawnSync(process.execPath, [GATEHOUSE, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, GATEHOUSE_DATA_DIR: dataDir },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('gatehouse: help and version exit 0; bad arguments exit 2 and start nothing', (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));

  const help = gatehouse(['start', '--help'], dataDir);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: gatehouse start \[options\]/);
  for (const flag of ['--config <FILE>', '--data-dir <DIR>', '--debug']) assert.ok(help.stdout.includes(flag), flag);
  assert.match(gatehouse(['demo', '--help'], dataDir).stdout, /--json-status <FILE>/);

  const version = gatehouse(['version'], dataDir);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^gatehouse \d+\.\d+\.\d+\n$/);
  assert.equal(gatehouse(['--version'], dataDir).stdout, version.stdout);

  const bogus = gatehouse(['start', '--bogus'], dataDir);
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /^ERROR: gatehouse start: unknown option '--bogus'\n/);
  assert.equal(bogus.stdout, '', 'no log line: nothing started');

  const missingConfig = gatehouse(['start', '--config', join(dataDir, 'none.yaml')], dataDir);
  assert.equal(missingConfig.code, 2, missingConfig.stderr);
  assert.match(missingConfig.stderr, /^ERROR: cannot read config file .*none\.yaml: ENOENT/);

  const none = gatehouse([], dataDir);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Usage: gatehouse .*\n[\s\S]*\n {2}start /);
});
