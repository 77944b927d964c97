import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FALLBACK_LOCALE, sshLocaleEnv } from './locale-env.ts';

test('sends LANG and LC_* only, like SendEnv LANG LC_*', () => {
  assert.deepEqual(
    sshLocaleEnv({ LANG: 'de_DE.UTF-8', LC_TIME: 'en_GB.UTF-8', PATH: '/bin', FOO: 'x', LANGUAGE: 'de', lc_all: 'y' }),
    { LANG: 'de_DE.UTF-8', LC_TIME: 'en_GB.UTF-8' },
  );
});

test('an unset, C or POSIX locale becomes C.UTF-8; a C LC_ALL is not sent to override it', () => {
  assert.deepEqual(sshLocaleEnv({}), { LANG: FALLBACK_LOCALE });
  assert.deepEqual(sshLocaleEnv({ LANG: 'C' }), { LANG: 'C.UTF-8' });
  assert.deepEqual(sshLocaleEnv({ LANG: 'POSIX', LC_ALL: 'C', LC_TIME: 'C' }), { LANG: 'C.UTF-8', LC_TIME: 'C' });
  assert.deepEqual(sshLocaleEnv({ LANG: '' }), { LANG: 'C.UTF-8' });
});

test('a UTF-8 LC_ALL or LC_CTYPE is kept as the locale in force', () => {
  assert.deepEqual(sshLocaleEnv({ LC_ALL: 'fr_FR.UTF-8' }), { LC_ALL: 'fr_FR.UTF-8' });
  assert.deepEqual(sshLocaleEnv({ LANG: 'C', LC_CTYPE: 'ja_JP.UTF-8' }), { LANG: 'C', LC_CTYPE: 'ja_JP.UTF-8' });
});

test('bounded: no huge or NUL values, at most 16 variables', () => {
  assert.deepEqual(sshLocaleEnv({ LANG: 'x'.repeat(300) }), { LANG: 'C.UTF-8' });
  assert.deepEqual(sshLocaleEnv({ LANG: 'en_US.UTF-8\0' }), { LANG: 'C.UTF-8' });
  assert.deepEqual(sshLocaleEnv({ LANG: 'en_US.UTF-8', LC_PAPER: 'a\nb', LC_: 'x', LC_NUMERIC: undefined }), {
    LANG: 'en_US.UTF-8',
  });
  const many = Object.fromEntries(
    Array.from({ length: 30 }, (_, i) => [`LC_X${String.fromCharCode(65 + i)}`, 'C.UTF-8']),
  );
  assert.equal(Object.keys(sshLocaleEnv({ LANG: 'en_US.UTF-8', ...many })).length, 16);
});
