import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globToRegExp, matchLabels, type LabelSelector } from './labels.ts';

const web = { env: 'prod-eu', team: 'web', tier: 'front' };

const cases: Array<[string, LabelSelector | undefined, Record<string, string>, boolean]> = [
  ['no selector grants nothing', undefined, web, false],
  ['empty selector grants nothing', {}, web, false],
  ["'*': '*' matches a labelled node", { '*': '*' }, web, true],
  ["'*': '*' matches a node without labels", { '*': '*' }, {}, true],
  ['exact value', { team: 'web' }, web, true],
  ['exact value mismatch', { team: 'db' }, web, false],
  ['value "*" matches any value of the key', { team: '*' }, web, true],
  ['value "*" still needs the key', { owner: '*' }, web, false],
  ['list matches any listed value', { team: ['db', 'web'] }, web, true],
  ['list without the value', { team: ['db', 'ops'] }, web, false],
  ['empty list matches nothing', { team: [] }, web, false],
  ['glob suffix', { env: 'prod-*' }, web, true],
  ['glob prefix', { env: '*-eu' }, web, true],
  ['glob middle', { env: 'p*u' }, web, true],
  ['glob is anchored', { env: 'prod' }, web, false],
  ['glob does not match other values', { env: 'staging-*' }, web, false],
  ['glob inside a list', { env: ['staging', 'prod-*'] }, web, true],
  ['all keys must match (AND)', { team: 'web', tier: 'back' }, web, false],
  ['all keys matching', { team: 'web', tier: 'front', env: 'prod-*' }, web, true],
  ['regex characters are literal', { env: 'prod.eu' }, { env: 'prodXeu' }, false],
  ['regex characters match themselves', { env: 'prod.eu' }, { env: 'prod.eu' }, true],
  ['case-sensitive', { team: 'Web' }, web, false],
  ['inherited properties are not labels', { constructor: '*' }, {}, false],
];

for (const [name, selector, labels, expected] of cases) {
  test(`labels: ${name}`, () => assert.equal(matchLabels(selector, labels), expected));
}

test('globToRegExp escapes everything but *', () => {
  assert.equal(globToRegExp('a.b*(c)').source, '^a\\.b.*\\(c\\)$');
});
