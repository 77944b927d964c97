import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLAIM_DIR, freePort } from './free-port.ts';

const PORTS_PER_PROCESS = 40;

/**
 * Starts a separate test process that claims `count` ports, prints them as one JSON line, and
 * holds them until its stdin closes: the two processes' claims must overlap in time, or a port
 * one released at exit could rightly go to the other.
 */
function claimInChild(count: number): { ports: Promise<number[]>; release(): Promise<void> } {
  const script = `import { freePort } from ${JSON.stringify(new URL('./free-port.ts', import.meta.url).href)};
const ports = []; for (let i = 0; i < ${count}; i++) ports.push(await freePort());
process.stdout.write(JSON.stringify(ports) + '\\n');
process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let out = '';
  const ports = new Promise<number[]>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out) as number[]);
    });
    void exited.then((code) => reject(new Error(`child exited ${code} before printing its ports`)));
  });
  return {
    ports,
    async release() {
      child.stdin.end();
      assert.equal(await exited, 0);
    },
  };
}

test('two test processes claiming ports at once never get the same one, and their claims go when they exit', async () => {
  const first = claimInChild(PORTS_PER_PROCESS);
  const second = claimInChild(PORTS_PER_PROCESS);
  const [a, b] = await Promise.all([first.ports, second.ports]);
  assert.equal(new Set(a).size, PORTS_PER_PROCESS);
  assert.equal(new Set(b).size, PORTS_PER_PROCESS);
  assert.deepEqual(
    a.filter((port) => b.includes(port)),
    [],
  );
  await Promise.all([first.release(), second.release()]);
  for (const port of [...a, ...b]) {
    assert.ok(port >= 20_000 && port < 32_000, `${port} is below the kernel's ephemeral range`);
    assert.equal(existsSync(join(CLAIM_DIR, String(port))), false, `claim on ${port} removed at exit`);
  }
});

test("a port is claimed under this process's pid while it lives", async () => {
  const port = await freePort();
  assert.equal(readFileSync(join(CLAIM_DIR, String(port)), 'utf8'), String(process.pid));
});
