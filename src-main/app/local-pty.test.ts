// A local program in a PTY as a terminal tab sees it: its output, its exit code, and close()
// ending it with SIGHUP as a closed terminal window would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { exitStatusOf, spawnLocalPty } from './local-pty.ts';

function collect(stream: NodeJS.ReadableStream): () => string {
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString('utf8')));
  return () => text;
}

test('runs the program in a terminal: output, input and exit code come through', async () => {
  const { channel } = spawnLocalPty({
    file: '/bin/sh',
    args: ['-c', 'read line; echo "got $line"; test -t 0 && echo tty; exit 3'],
    cols: 80,
    rows: 24,
    cwd: tmpdir(),
  });
  const output = collect(channel.stdout);
  channel.stdin.write('hello\r');
  assert.deepEqual(await channel.exit, { code: 3 });
  await new Promise((r) => setTimeout(r, 50));
  assert.match(output(), /got hello/);
  assert.match(output(), /tty/, 'stdin is a terminal, as psql needs for its prompt');
});

test('close() hangs up the program', async () => {
  const { channel } = spawnLocalPty({ file: '/bin/sleep', args: ['30'], cols: 80, rows: 24, cwd: tmpdir() });
  channel.close();
  assert.deepEqual(await channel.exit, { code: null, signal: 'HUP' });
});

test('exitStatusOf names signals', () => {
  assert.deepEqual(exitStatusOf(0, 15), { code: null, signal: 'TERM' });
  assert.deepEqual(exitStatusOf(2, 0), { code: 2 });
});
