import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DerMemo } from './der-memo.ts';

test('parses each certificate once, hands out copies, and forgets the least recently used past its bound', () => {
  let parses = 0;
  const memo = new DerMemo((der) => ({ text: der.toString(), at: new Date(0), n: ++parses }), 2);
  const a = memo.get(Buffer.from('a'));
  a.text = 'changed';
  assert.deepEqual(
    memo.get(Buffer.from('a')),
    { text: 'a', at: new Date(0), n: 1 },
    'a copy: the change did not stick',
  );
  memo.get(Buffer.from('b'));
  memo.get(Buffer.from('a'));
  memo.get(Buffer.from('c')); // drops b, the least recently used
  assert.equal(parses, 3);
  assert.equal(memo.get(Buffer.from('a')).n, 1);
  assert.equal(memo.get(Buffer.from('b')).n, 4, 'b was parsed again');
  assert.equal(memo.size, 2);
});

test('a parse that throws is not remembered', () => {
  let parses = 0;
  const memo = new DerMemo<number>(() => {
    parses++;
    throw new Error('bad certificate');
  });
  assert.throws(() => memo.get(Buffer.from('x')), /bad certificate/);
  assert.throws(() => memo.get(Buffer.from('x')), /bad certificate/);
  assert.equal(parses, 2);
});
