import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { STREAM_GC_V8_FLAG, tuneGcForStreaming } from './stream-gc.ts';

// A stream's shape: a live heap of a few tens of MB (a daemon's) and 512 MiB of 64 KiB Buffers
// that die young. Run with --trace-gc, which prints a line per collection.
const STREAM_SCRIPT = `
if (process.argv[1] === 'tuned') require('node:v8').setFlagsFromString(${JSON.stringify(STREAM_GC_V8_FLAG)});
const live = [];
for (let i = 0; i < 300000; i++) live.push({ i, s: 'x' + i });
const src = Buffer.alloc(65536, 1);
const inFlight = [];
for (let i = 0; i < 8192; i++) {
  const b = Buffer.allocUnsafe(65536);
  src.copy(b);
  inFlight.push(b);
  if (inFlight.length > 8) inFlight.shift();
}
console.log('live', live.length);
`;

function majorCollections(mode: 'default' | 'tuned'): number {
  const r = spawnSync(process.execPath, ['--trace-gc', '-e', STREAM_SCRIPT, mode], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /live 300000/);
  return r.stdout.split('\n').filter((line) => line.includes('Mark-Compact')).length;
}

test('the streaming GC setting passes the V8 flag', () => {
  const seen: string[] = [];
  tuneGcForStreaming((flags) => seen.push(flags));
  assert.deepEqual(seen, [STREAM_GC_V8_FLAG]);
});

test('with the setting, short-lived external Buffers no longer drive full collections', () => {
  const plain = majorCollections('default');
  const tuned = majorCollections('tuned');
  assert.ok(plain >= 4, `the default V8 should run several full collections here, ran ${plain}`);
  assert.ok(tuned * 2 <= plain, `tuned ran ${tuned} full collections, default ${plain}`);
});
