// gate ssh sends the locale like OpenSSH's `SendEnv LANG LC_*`, and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendEnv } from './ssh.ts';

test('sendEnv: LANG and LC_* only, set and sane values only', () => {
  assert.deepEqual(
    sendEnv({
      LANG: 'de_DE.UTF-8',
      LC_ALL: 'C.UTF-8',
      LC_TIME: 'en_GB.UTF-8',
      LC_: 'x',
      lc_all: 'x',
      LANGUAGE: 'de',
      LD_PRELOAD: '/tmp/x.so',
      PATH: '/bin',
      LC_CTYPE: '',
      LC_NUMERIC: undefined,
      LC_PAPER: 'a\nb',
      LC_NAME: 'x'.repeat(257),
    }),
    { LANG: 'de_DE.UTF-8', LC_ALL: 'C.UTF-8', LC_TIME: 'en_GB.UTF-8' },
  );
  assert.deepEqual(sendEnv({}), {});
});
