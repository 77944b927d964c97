// `gate login`, `set-password`, `status`, `logout`, `version`: declared here (options, help),
// implemented in commands/login.ts and commands/status.ts, which load only when they run.
import { Option, type Command } from 'commander';
import { gateAction, type ContextFactory } from '../context.ts';
import { addTokenOptions } from '../token-input.ts';
import type { LoginOptions, SetPasswordOptions } from '../commands/login.ts';
import type { LogoutOptions } from '../commands/status.ts';

/**
 * The flag that trusts a proxy's CA on first contact without asking (commands/login.ts reads it
 * as insecureTrustOnFirstUse). Declared here, not in first-use.ts, which loads the core's trust code.
 */
const INSECURE_TOFU_FLAG = 'insecure-trust-on-first-use';

/** How `gate login` and `gate set-password` decide to trust the proxy on first contact. */
function addTrustOptions(cmd: Command): Command {
  return cmd
    .option(
      '--ca-pin <SHA256:HEX>',
      'trust the proxy only if its CA has this fingerprint (ask your administrator; "gatectl status" prints it)',
    )
    .option('--ca-file <FILE>', "trust the proxy's CA from this PEM file")
    .option(
      `--${INSECURE_TOFU_FLAG}`,
      'on first contact, trust whatever CA the proxy presents without asking (scripts on a network you trust; prefer --ca-pin)',
    );
}

const LOGIN_DESCRIPTION = `Logs in through the proxy and stores a fresh key with the SSH and X.509 certificates the
cluster issues for it (under $GATEHOUSE_HOME, default ~/.gatehouse). The first connection to a
proxy pins its certificate authority: the one --ca-pin / --ca-file names, or the one it presents
once you confirm its fingerprint (asked on a terminal; scripts pass --ca-pin, or knowingly
--insecure-trust-on-first-use). Later connections must present the same one. When this
device is enrolled in the cluster ("gate device enroll"), the login is followed by device
authentication with the TPM, which makes the certificates device-trusted; if that fails, the
login still stands and the reason is printed.`;

const SET_PASSWORD_DESCRIPTION = `Sets your password with a one-time token (from "gatectl users add" or a reset). When the
cluster uses one-time codes, prints the otpauth:// URI to add to your authenticator app.
With --token-stdin and --password-stdin, the first line of standard input is the token and the
rest the password.`;

export function registerSessionCommands(program: Command, context: ContextFactory): void {
  const login = program
    .command('login')
    .summary('log in to a cluster and get short-lived certificates')
    .description(LOGIN_DESCRIPTION)
    .option(
      '--proxy <ADDRESS>',
      "proxy host[:port] (default port 3080; default: the current profile's); a cluster's several proxies " +
        'repeated or comma-separated, tried in order when one cannot be reached',
      (value: string, previous: string | undefined) => (previous ? `${previous},${value}` : value),
    )
    .option('--user <NAME>', "user name (default: the current profile's user, else your OS user name)")
    .option('--password-stdin', 'read the password from standard input instead of asking')
    .option('--otp <CODE>', 'one-time code, when the cluster requires one (asked for otherwise)')
    .option('--ttl <DURATION>', 'ask for shorter-lived certificates, e.g. 1h or 30m');
  addTrustOptions(login);
  gateAction(login, context, async () => {
    const { login: run } = await import('../commands/login.ts');
    return (ctx, cmd) => run(ctx, cmd.opts<LoginOptions>());
  });

  const setPassword = program
    .command('set-password')
    .summary('set your password with the one-time token your administrator gave you')
    .description(SET_PASSWORD_DESCRIPTION)
    .addOption(new Option('--proxy <ADDRESS>', 'proxy host[:port]').makeOptionMandatory());
  addTokenOptions(setPassword).option(
    '--password-stdin',
    'read the new password from standard input instead of asking twice',
  );
  addTrustOptions(setPassword);
  gateAction(setPassword, context, async () => {
    const { setPassword: run } = await import('../commands/login.ts');
    return (ctx, cmd) => run(ctx, cmd.opts<SetPasswordOptions>());
  });

  const status = program
    .command('status')
    .summary('show who you are logged in as, your roles and logins, and until when')
    .description(
      'Shows the current profile (marked ">") and any other stored logins: proxy, user, cluster,\n' +
        'roles, logins and how long the certificates stay valid. Reads local files only.',
    );
  gateAction(status, context, async () => (await import('../commands/status.ts')).status);

  const logout = program
    .command('logout')
    .summary('remove the stored keys and certificates of the current login')
    .description(
      'Deletes the key and certificates of the current login (or of the one named), so this machine\n' +
        "can no longer act as you. The proxy's pinned CA is kept (like ssh's known_hosts).",
    )
    .option('--proxy <ADDRESS>', 'the proxy of the login to remove (default: the current one)')
    .option('--user <NAME>', 'the user of the login to remove (default: the current one)')
    .option('--all', 'remove every stored login');
  gateAction(logout, context, async () => {
    const { logout: run } = await import('../commands/status.ts');
    return (ctx, cmd) => run(ctx, cmd.opts<LogoutOptions>());
  });

  const version = program.command('version').summary('print the version').description('Prints the version.');
  gateAction(version, context, async () => (await import('../commands/status.ts')).version);
}
