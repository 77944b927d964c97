import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src-shared/errors.ts';
import type { ClusterSummary } from '../ipc/contract.ts';
import { LaunchAddRow } from './launch-add-row.ts';

const PIN = 'SHA256:' + 'ab'.repeat(32);
const stored: ClusterSummary = {
  proxy: '127.0.0.1:4080',
  clusterName: 'staging',
  secondFactor: 'off',
  caFingerprint: PIN,
  current: true,
};

describe("the launcher's new cluster while its add runs", () => {
  test('connecting: a placeholder after the stored clusters, current only when none is', () => {
    const row = new LaunchAddRow('127.0.0.1:3080', PIN);
    const [first, placeholder] = row.decorate([stored]);
    assert.deepEqual(first, stored);
    assert.equal(placeholder?.adding, 'connecting');
    assert.equal(placeholder?.current, false, 'the stored current cluster stays the one shown');
    assert.equal(row.decorate([])[0]?.current, true);
  });

  test('failed: the placeholder stays with the error, whose code says the next step', () => {
    const row = new LaunchAddRow('127.0.0.1:3080', PIN);
    row.failed({ code: ErrorCode.PROXY_UNREACHABLE, message: 'connection refused' });
    const [placeholder] = row.decorate([]);
    assert.equal(placeholder?.adding, 'failed');
    assert.deepEqual(placeholder?.addError, { code: ErrorCode.PROXY_UNREACHABLE, message: 'connection refused' });
  });

  test('done, or the entry already stored: the list is left as it is', () => {
    const row = new LaunchAddRow('127.0.0.1:4080', PIN);
    assert.deepEqual(row.decorate([stored]), [stored], 'the stored entry replaces the placeholder');
    const other = new LaunchAddRow('127.0.0.1:3080', PIN);
    other.resolved();
    assert.deepEqual(other.decorate([stored]), [stored]);
    assert.equal(other.current.kind, 'done');
  });
});
