import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestChannels } from '../ipc/contract.ts';
import {
  acceptTerminalInput,
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

test('terminal input: non-empty strings up to the size limit', () => {
  assert.equal(acceptTerminalInput('ls\r'), 'ls\r');
  assert.equal(acceptTerminalInput('x'.repeat(MAX_TERMINAL_INPUT)), 'x'.repeat(MAX_TERMINAL_INPUT));
  assert.equal(acceptTerminalInput('x'.repeat(MAX_TERMINAL_INPUT + 1)), undefined);
  assert.equal(acceptTerminalInput(''), undefined);
  assert.equal(acceptTerminalInput(new Uint8Array([1])), undefined);
  assert.equal(acceptTerminalInput({ toString: () => 'ls' }), undefined);
});
