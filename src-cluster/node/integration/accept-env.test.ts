// ssh_service.accept_env against real clients: the stock OpenSSH client's SendEnv/SetEnv and the
// patched ssh2 client (what `gate ssh` uses). Accepted variables reach the shell, so UTF-8 text
// typed on a real PTY comes back as characters; any other name is answered "false" (seen by a
// client that asks for a reply) and never reaches the shell.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientChannel } from 'ssh2';
import { TempDir, makeKey, requireTool, runSsh, signCert, startTestNode, type TestNode } from './fixtures.ts';
import { connectSsh2, drainChannel, type Ssh2Connection } from './ssh2-helpers.ts';

const TEXT = 'é中文';
/** Prints what was read and its length in characters (wc -m follows LC_CTYPE: 3 in UTF-8, 8 in C). */
const READ_AND_COUNT = `read -r x; printf '[%s]%s\\n' "$x" "$(printf %s "$x" | wc -m)"`;

/** The error of a channel whose env request (sent with want-reply, before the subsystem) is refused. */
function envReply(c: Ssh2Connection, env: Record<string, string>): Promise<string> {
  // ssh2 asks for a reply to env only on the way to a subsystem; the node refuses the sftp
  // subsystem itself, so an accepted variable shows up as that later refusal instead.
  // @types/ssh2 knows only sftp(cb); ssh2 itself takes the environment first (lib/client.js).
  const sftpWithEnv = c.client.sftp.bind(c.client) as unknown as (
    env: Record<string, string>,
    cb: (err: Error | undefined) => void,
  ) => void;
  return new Promise((resolve) => sftpWithEnv(env, (err) => resolve(err ? err.message : 'opened')));
}

function execWithEnv(c: Ssh2Connection, command: string, env: Record<string, string>): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    c.client.exec(command, { env }, (err, ch) => (err ? reject(err) : resolve(ch))),
  );
}

describe('ssh_service.accept_env', () => {
  let dir: TempDir;
  let key: string;
  let cert: string;
  let defaults: TestNode;
  let custom: TestNode;

  before(async () => {
    requireTool('ssh');
    requireTool('ssh-keygen');
    dir = new TempDir();
    const ca = makeKey(dir, 'user_ca');
    key = makeKey(dir, 'erin');
    cert = signCert(ca, key, { keyId: 'erin', principals: ['root'] });
    [defaults, custom] = await Promise.all([
      startTestNode(dir, ca),
      startTestNode(dir, ca, { acceptEnv: ['LANG', 'GIT_*'] }),
    ]);
  });

  after(async () => {
    await Promise.all([defaults?.server.close(), custom?.server.close()]);
    dir?.remove();
  });

  it('OpenSSH SendEnv LANG LC_*: the locale reaches the shell, SetEnv FOO does not', async () => {
    const r = await runSsh({
      port: defaults.port,
      login: 'root',
      key,
      cert,
      command: ['echo "$LANG|${LC_TIME-unset}|${FOO-unset}"; locale | grep ^LC_CTYPE='],
      flags: ['-o', 'SendEnv=LANG LC_*', '-o', 'SetEnv=FOO=bar'],
      env: { LANG: 'C.UTF-8', LC_TIME: 'C.UTF-8' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'C.UTF-8|C.UTF-8|unset\nLC_CTYPE="C.UTF-8"\n');
  });

  it(`${TEXT} typed on a real PTY comes back as 3 characters under the sent locale`, async () => {
    const run = (env: Record<string, string>) =>
      runSsh({
        port: defaults.port,
        login: 'root',
        key,
        cert,
        command: [READ_AND_COUNT],
        flags: ['-tt', '-o', 'SendEnv=LANG'],
        env,
        input: Buffer.from(`${TEXT}\n`, 'utf8'),
      });
    const utf8 = await run({ LANG: 'C.UTF-8' });
    assert.equal(utf8.code, 0, utf8.stderr);
    // The PTY echoes what was typed, then the command's line.
    assert.match(utf8.stdout, new RegExp(`\\[${TEXT}\\]3\\r\\n`));
    // The same bytes without a sent locale: the shell counts bytes, which is what the fix is for.
    const plain = await run({ LANG: 'C' });
    assert.match(plain.stdout, new RegExp(`\\[${TEXT}\\]8\\r\\n`));
  });

  it('a variable off the list is answered false; one on it is accepted (ssh2 with want-reply)', async () => {
    const c = await connectSsh2(defaults.port, 'root', key, cert);
    try {
      assert.equal(await envReply(c, { FOO: 'bar' }), 'Unable to set environment');
      assert.equal(await envReply(c, { LD_PRELOAD: '/tmp/x.so' }), 'Unable to set environment');
      const accepted = await envReply(c, { LC_ALL: 'C.UTF-8' });
      assert.notEqual(accepted, 'Unable to set environment');
      assert.match(accepted, /subsystem|Unable to start/i);
    } finally {
      c.client.end();
    }
  });

  it("an admin's list replaces the default: GIT_* and LANG in, LC_* and FOO out", async () => {
    const c = await connectSsh2(custom.port, 'root', key, cert);
    try {
      const ch = await execWithEnv(c, 'echo "$LANG|${GIT_AUTHOR_NAME-unset}|${LC_ALL-unset}|${FOO-unset}"', {
        LANG: 'C.UTF-8',
        GIT_AUTHOR_NAME: 'Erin',
        LC_ALL: 'C.UTF-8',
        FOO: 'bar',
      });
      assert.deepEqual(await drainChannel(ch), { stdout: 'C.UTF-8|Erin|unset|unset\n', stderr: '', code: 0 });
    } finally {
      c.client.end();
    }
  });
});
