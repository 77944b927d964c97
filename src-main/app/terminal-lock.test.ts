// Reading a lock back out of a terminal's output or refusal, in the exact forms the node writes
// (src-cluster/resources/lock.ts lockMessage, src-cluster/node/session.ts terminate). main may not
// import cluster code, so lockMessage is restated here; the integration test uses the real node.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findLockNotice, lockConcernsUserOrDevice, OutputTail } from './terminal-lock.ts';

function lockMessage(spec: { target: Record<string, string>; message?: string }): string {
  const words: Record<string, string> = { user: 'User', role: 'Role', device: 'Device', node: 'Node' };
  const [kind, value] = Object.entries(spec.target)[0]!;
  const base = `lock targeting ${words[kind]}:${JSON.stringify(value)} is in force`;
  return spec.message ? `${base}: ${spec.message}` : base;
}

describe('findLockNotice', () => {
  test('the line the node writes into a cut session, with and without a message', () => {
    const line = lockMessage({ target: { user: 'alice' }, message: 'laptop stolen (ticket 42)' });
    assert.deepEqual(findLockNotice(`alice@node:~$ \r\n${line}\r\n`), {
      target: 'User:"alice"',
      message: 'laptop stolen (ticket 42)',
    });
    const bare = lockMessage({ target: { device: 'd-1' } });
    assert.deepEqual(findLockNotice(`\r\n${bare}\r\n`), { target: 'Device:"d-1"', message: bare });
  });

  test('inside an SSH refusal the wrapper parenthesis is not part of the message', () => {
    const line = lockMessage({ target: { role: 'dev' }, message: 'incident' });
    const refusal = `ssh: rejected: administratively prohibited (${line})`;
    assert.deepEqual(findLockNotice(refusal), { target: 'Role:"dev"', message: 'incident' });
  });

  test('the last lock wins; ordinary output is no lock', () => {
    const a = lockMessage({ target: { user: 'a' }, message: 'one' });
    const b = lockMessage({ target: { user: 'b' }, message: 'two' });
    assert.equal(findLockNotice(`${a}\r\n${b}\r\n`)?.message, 'two');
    assert.equal(findLockNotice('ls: cannot access locked: No such file\r\n'), undefined);
  });

  test('only user and device locks concern the whole app', () => {
    assert.equal(lockConcernsUserOrDevice({ target: 'User:"a"', message: '' }), true);
    assert.equal(lockConcernsUserOrDevice({ target: 'Device:"d"', message: '' }), true);
    assert.equal(lockConcernsUserOrDevice({ target: 'Node:"n1"', message: '' }), false);
  });

  test('OutputTail keeps the last characters only', () => {
    const t = new OutputTail(5);
    t.push('abc');
    t.push('defg');
    assert.equal(t.toString(), 'cdefg');
  });
});
