import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTable } from './cli-util.ts';

test('formatTable pads every column but the last to its widest cell and trims trailing blanks', () => {
  const out = formatTable(
    ['Asset Tag', 'OS', 'Status'],
    [
      ['LAPTOP-0001-LONG', 'linux', 'enrolled'],
      ['X', 'windows', ''],
      ['Y', '', 'not_enrolled'],
    ],
  );
  assert.equal(
    out,
    [
      'Asset Tag         OS       Status',
      '----------------  -------  ------------',
      'LAPTOP-0001-LONG  linux    enrolled',
      'X                 windows',
      'Y                          not_enrolled',
      '',
    ].join('\n'),
  );
});

test('formatTable prints the header and its rule when there are no rows', () => {
  assert.equal(formatTable(['Name', 'Kind'], []), 'Name  Kind\n----  ----\n');
});

test('formatTable treats missing cells as empty', () => {
  assert.equal(formatTable(['A', 'B'], [['x']]), 'A  B\n-  -\nx\n');
});
