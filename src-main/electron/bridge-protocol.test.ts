import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestChannels } from '../ipc/contract.ts';
import {
  acceptTerminalInput,
  parseTerminalPortMessage,
  channelsArgument,
  channelsFromArgv,
  MAX_TERMINAL_INPUT,
  parseAttachRequest,
} from './bridge-protocol.ts';

test('the contract channel list survives the trip through the renderer argv', () => {
  const argv = ['/opt/Gatehouse/gatehouse', '--type=renderer', channelsArgument(requestChannels), '--other'];
  assert.deepEqual(channelsFromArgv(argv), requestChannels);
});

test('a missing or tampered channel list is an error, not a smaller API', () => {
  assert.throws(() => channelsFromArgv(['--type=renderer']), /--gatehouse-channels= missing/);
  assert.throws(
    () => channelsFromArgv(['--gatehouse-channels=clusters.add,__proto__.x']),
    /bad channel names __proto__\.x/,
  );
  assert.throws(() => channelsFromArgv(['--gatehouse-channels=']), /bad channel names/);
  assert.throws(() => channelsArgument(['nodots']), /not namespace\.method/);
});

test('attach requests: a numeric request id and a terminal id like t12, nothing else', () => {
  assert.deepEqual(parseAttachRequest({ requestId: 3, terminalId: 't12' }), { requestId: 3, terminalId: 't12' });
  assert.deepEqual(parseAttachRequest({ requestId: 0, terminalId: 't1', extra: true }), {
    requestId: 0,
    terminalId: 't1',
  });
  for (const bad of [
    null,
    'x',
    { requestId: '1', terminalId: 't1' },
    { requestId: -1, terminalId: 't1' },
    { requestId: 1.5, terminalId: 't1' },
    { requestId: 1, terminalId: 'x1' },
    { requestId: 1, terminalId: 't1; rm -rf' },
    { requestId: 1 },
  ]) {
    assert.equal(parseAttachRequest(bad), undefined, JSON.stringify(bad));
  }
});

test('terminal port messages: input bytes up to the size limit, and the two flow-control words', () => {
  const ls = new TextEncoder().encode('ls\r');
  assert.deepEqual(parseTerminalPortMessage(ls), { kind: 'input', data: ls });
  assert.deepEqual(parseTerminalPortMessage(ls.buffer), { kind: 'input', data: ls }, 'a transferred ArrayBuffer');
  const max = new Uint8Array(MAX_TERMINAL_INPUT);
  assert.equal(acceptTerminalInput(max), max);
  assert.equal(acceptTerminalInput(new Uint8Array(MAX_TERMINAL_INPUT + 1)), undefined);
  assert.equal(acceptTerminalInput(new Uint8Array()), undefined);
  assert.deepEqual(parseTerminalPortMessage('pause'), { kind: 'pause' });
  assert.deepEqual(parseTerminalPortMessage('resume'), { kind: 'resume' });
  assert.deepEqual(parseTerminalPortMessage('parsed 65536'), { kind: 'parsed', bytes: 65536 });
  const badParsed = ['parsed 0', 'parsed -1', 'parsed 1.5', 'parsed 12345678901', 'parsed  1', 'parsed 1\n'];
  for (const bad of ['ls\r', '', new Uint16Array([1]), { toString: () => 'ls' }, null, 42, ...badParsed]) {
    assert.equal(parseTerminalPortMessage(bad), undefined, String(bad));
  }
});
