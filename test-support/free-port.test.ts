import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLAIM_DIR, freePort } from './free-port.ts';

const PORTS_PER_PROCESS = 40;

/** Runs a separate test process that claims `count` ports and prints them as JSON. */
function claimInChild(count: number): Promise<number[]> {
  const script = `import { freePort } from ${JSON.stringify(new URL('./free-port.ts', import.meta.url).href)};
const ports = []; for (let i = 0; i < ${count}; i++) ports.push(await freePort());
process.stdout.write(JSON.stringify(ports));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`child exit ${code}`)),
    ),
  );
}

test('two test processes claiming ports at once never get the same one, and their claims go when they exit', async () => {
  const [a, b] = await Promise.all([claimInChild(PORTS_PER_PROCESS), claimInChild(PORTS_PER_PROCESS)]);
  assert.equal(new Set(a).size, PORTS_PER_PROCESS);
  assert.equal(new Set(b).size, PORTS_PER_PROCESS);
  assert.deepEqual(
    a.filter((port) => b.includes(port)),
    [],
  );
  for (const port of [...a, ...b]) {
    assert.ok(port >= 20_000 && port < 32_000, `${port} is below the kernel's ephemeral range`);
    assert.equal(existsSync(join(CLAIM_DIR, String(port))), false, `claim on ${port} removed at exit`);
  }
});

test("a port is claimed under this process's pid while it lives", async () => {
  const port = await freePort();
  assert.equal(readFileSync(join(CLAIM_DIR, String(port)), 'utf8'), String(process.pid));
});
