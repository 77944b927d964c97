import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { endOnClosedOutput } from './closed-output.ts';

const MODULE = fileURLToPath(new URL('./closed-output.ts', import.meta.url));

/** Runs `body` in a Node child after endOnClosedOutput(), reads its first output, then closes the pipe. */
async function runThenCloseReader(body: string) {
  const script = `import { endOnClosedOutput } from ${JSON.stringify(MODULE)}; endOnClosedOutput(); ${body}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  // What `head -c 1` does: take the first bytes, then close the read end of the pipe.
  child.stdout.once('data', () => child.stdout.destroy());
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stderr };
}

describe('endOnClosedOutput', () => {
  test('a writer whose reader closed the pipe dies of SIGPIPE, quietly, like coreutils', async () => {
    // 8 MiB: far more than a pipe buffers, so writes go on after the reader is gone; the timer
    // shows the process would otherwise have lived on.
    const r = await runThenCloseReader(
      `process.stdout.write('x'.repeat(65536)); setTimeout(() => { for (let i = 0; i < 128; i++) process.stdout.write('y'.repeat(65536)); }, 200); setTimeout(() => process.stderr.write('still running'), 5000);`,
    );
    assert.equal(r.stderr, '');
    assert.equal(r.signal, 'SIGPIPE');
    assert.equal(r.code, null);
  });

  test('ends through the given function on EPIPE; other stream errors still surface', () => {
    const out = new PassThrough();
    let ended = 0;
    endOnClosedOutput([out], () => ended++);
    out.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    assert.equal(ended, 1);
    const other = Object.assign(new Error('write EIO'), { code: 'EIO' });
    assert.throws(() => out.emit('error', other), other);
    assert.equal(ended, 1);
  });
});
