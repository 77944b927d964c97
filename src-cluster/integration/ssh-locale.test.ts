// Remote shells get a UTF-8 locale through `gate ssh` (issue 15, "Also fix"): gate sends LANG and
// LC_* like OpenSSH's SendEnv (C.UTF-8 when its own locale is unset or POSIX), the node takes them
// by ssh_service.accept_env, and é中文 typed in a real terminal comes back as three characters.
// Anything else in gate's environment (FOO) never reaches the shell. Real cluster, real pty.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import pty from 'node-pty';
import { TestCluster } from './harness.ts';

const LOGIN = userInfo().username;
const TEXT = 'é中文';

/** gate's own locale: every LANG/LC_* of the test runner blanked (unset for gate), then `locale`. */
function localeEnv(locale: Record<string, string>): Record<string, string> {
  const blank = Object.keys(process.env).filter((k) => k === 'LANG' || k.startsWith('LC_'));
  return { ...Object.fromEntries(blank.map((k) => [k, ''])), ...locale };
}

async function screenShows(screen: () => string, what: RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!what.test(screen())) {
    assert.ok(Date.now() < deadline, `the terminal never showed ${what}: ${JSON.stringify(screen())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('gate ssh: the locale reaches the remote shell', () => {
  const cluster = new TestCluster({ nodeName: 'locale' });
  const target = () => `${LOGIN}@${cluster.nodeName}`;
  before(async () => {
    await cluster.start();
    const r = cluster.addUserAndLogin('lena', 'lena-password-1', 'access', LOGIN);
    assert.equal(r.status, 0, `login failed: ${r.stderr}\n${r.stdout}`);
  });
  after(() => cluster.destroy());

  test("gate's LANG and LC_* arrive; FOO does not", () => {
    const r = cluster.gate(
      ['ssh', target(), 'echo "$LANG|${LC_TIME-unset}|${FOO-unset}"; locale | grep ^LC_CTYPE='],
      '',
      localeEnv({ LANG: 'C.UTF-8', LC_TIME: 'C.UTF-8', FOO: 'bar' }),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'C.UTF-8|C.UTF-8|unset\nLC_CTYPE="C.UTF-8"\n');
  });

  test('an unset or POSIX local locale gives the remote shell C.UTF-8 (like the desktop app started from a menu)', () => {
    const locales: Record<string, string>[] = [{}, { LANG: 'POSIX', LC_ALL: 'C' }];
    for (const locale of locales) {
      const r = cluster.gate(['ssh', target(), 'echo "$LANG|${LC_ALL-unset}"'], '', localeEnv(locale));
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'C.UTF-8|unset\n', JSON.stringify(locale));
    }
  });

  test(`${TEXT} piped in comes back whole and counts as 3 characters`, () => {
    const r = cluster.gate(
      ['ssh', target(), `read -r x; printf '[%s]%s\\n' "$x" "$(printf %s "$x" | wc -m)"`],
      `${TEXT}\n`,
      localeEnv({}),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `[${TEXT}]3\n`);
  });

  test(`${TEXT} typed into gate ssh -t in a terminal is echoed and read as 3 characters`, async () => {
    const term = pty.spawn(
      process.execPath,
      cluster.gateArgv([
        'ssh',
        '-t',
        target(),
        `echo ready; read -r x; printf 'got[%s]%s\\n' "$x" "$(printf %s "$x" | wc -m)"`,
      ]),
      {
        cols: 100,
        rows: 30,
        env: {
          ...process.env,
          ...localeEnv({}),
          GATEHOUSE_DATA_DIR: cluster.dataDir,
          GATEHOUSE_HOME: cluster.home,
        } as Record<string, string>,
      },
    );
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    try {
      // Typed once the remote shell is reading, as a person would.
      await screenShows(() => screen, /ready\r/);
      term.write(`${TEXT}\r`);
      await screenShows(() => screen, /got\[/);
      assert.equal(await exited, 0, screen);
      assert.match(screen, new RegExp(`${TEXT}\\r\\r?\\n`), 'the remote terminal echoes what was typed');
      assert.match(screen, new RegExp(`got\\[${TEXT}\\]3\\r`));
    } finally {
      term.kill();
    }
  });
});
