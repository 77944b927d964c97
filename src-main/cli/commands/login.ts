// `gate login` and `gate set-password`: the two commands that talk to a proxy before the user
// has certificates. Both establish trust in the proxy first (pinning its CA on first use).
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { ClusterClient } from '../../core/cluster-client.ts';
import { deviceTrustText } from '../../core/device-trust.ts';
import type { TrustDecision, TrustOptions } from '../../core/proxy-trust.ts';
import type { CommandContext } from '../context.ts';
import { note, print, prompt, readSecretFromStdin } from '../io.ts';
import { requirementLines } from '../../core/device-trust-status.ts';
import { readToken, StdinLines } from '../token-input.ts';
import { establishWithConsent } from '../first-use.ts';
import { profileLines, profileTrust } from './status.ts';

/** The options of `gate login` and `gate set-password` that choose how the proxy is trusted. */
export interface TrustFlags {
  caPin?: string;
  caFile?: string;
  insecureTrustOnFirstUse?: boolean;
}

export interface LoginOptions extends TrustFlags {
  proxy?: string;
  user?: string;
  passwordStdin?: boolean;
  otp?: string;
  ttl?: string;
}

export interface SetPasswordOptions extends TrustFlags {
  proxy: string;
  token?: string;
  tokenStdin?: boolean;
  passwordStdin?: boolean;
}

function trustOptions(values: TrustFlags): TrustOptions {
  const opts: TrustOptions = {};
  if (values.insecureTrustOnFirstUse) opts.trustOnFirstUse = true;
  if (values.caPin) opts.caPin = values.caPin;
  if (values.caFile) {
    try {
      opts.caPem = readFileSync(values.caFile, 'utf8');
    } catch (e) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `cannot read --ca-file ${values.caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  return opts;
}

/** Tells the user what they now trust: the fingerprint is what they compare with the admin's. */
function reportTrust(ctx: CommandContext, d: TrustDecision, when: string): void {
  if (!d.newlyPinned) return;
  // Why the CA came from another proxy: a silent or refusing first proxy is worth knowing about.
  for (const s of d.skipped ?? []) note(ctx.io, `Skipped the proxy at ${s.proxy}: ${s.reason}.`);
  if (d.replacedFingerprint) {
    note(
      ctx.io,
      `The proxy at ${d.proxy} was pinned to CA ${d.replacedFingerprint}; trusting ${d.fingerprint} instead, as you asked (remembered ${when}).`,
    );
  } else if (d.source === 'first-use') {
    const from = d.presentedBy && d.presentedBy !== d.proxy ? ` (as presented by ${d.presentedBy})` : '';
    note(ctx.io, `First connection to the proxy at ${d.proxy}. Trusting its certificate authority${from}:`);
    note(ctx.io, `  ${d.fingerprint}`);
    note(ctx.io, 'Compare it with the fingerprint your administrator gives you ("gatectl status", type tls_host).');
    note(ctx.io, `It is remembered in ${ctx.core.trust.pinFile} ${when}.`);
  } else {
    const from = d.presentedBy && d.presentedBy !== d.proxy ? `, presented by ${d.presentedBy}` : '';
    note(ctx.io, `Trusting the proxy at ${d.proxy} with CA ${d.fingerprint}${from} (remembered ${when}).`);
  }
}

async function withCluster<T>(ctx: CommandContext, proxy: string, fn: (c: ClusterClient) => Promise<T>): Promise<T> {
  const cluster = await ctx.core.cluster(proxy);
  try {
    return await fn(cluster);
  } finally {
    cluster.close();
  }
}

async function askSecret(
  ctx: CommandContext,
  fromStdin: boolean | undefined,
  question: string,
  what: string,
): Promise<string> {
  if (fromStdin) return readSecretFromStdin(ctx.io, what);
  if (!ctx.io.stdin.isTTY) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `no terminal to ask for the ${what}; pass it with --${what}-stdin`);
  }
  const answer = await prompt(ctx.io, question, { hidden: true });
  if (!answer) throw new GatehouseError(ErrorCode.BAD_REQUEST, `no ${what} given`);
  return answer;
}

/** `gate login`: see families/session.ts for its options. */
export async function login(ctx: CommandContext, values: LoginOptions): Promise<number> {
  const current = ctx.core.profiles.current();
  const proxy = values.proxy ?? current?.proxy;
  if (!proxy) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      'gate login: --proxy is required (there is no current login to take it from)',
      {
        hint: 'Run "gate login --help" for its options.',
      },
    );
  }
  const user = values.user ?? (current && current.proxy === proxy ? current.user : userInfo().username);
  const ttlSeconds = values.ttl ? parseTtl(values.ttl) : undefined;
  const result = await withCluster(ctx, proxy, async (cluster) => {
    const interactive = !values.passwordStdin;
    const decision = await establishWithConsent(ctx, cluster, trustOptions(values), interactive);
    reportTrust(ctx, decision, 'once you are logged in');
    const ping = await cluster.ping();
    const password = await askSecret(
      ctx,
      values.passwordStdin,
      `Password for ${user}@${cluster.proxy.address}: `,
      'password',
    );
    let otp = values.otp;
    if (!otp && ping.secondFactor === 'otp') {
      if (!ctx.io.stdin.isTTY || values.passwordStdin) {
        throw new GatehouseError(
          ErrorCode.BAD_REQUEST,
          `cluster "${ping.clusterName}" requires a one-time code; pass it with --otp`,
        );
      }
      otp = (await prompt(ctx.io, 'One-time code from your authenticator app: ')).trim();
    }
    const outcome = await ctx.core.login(cluster, {
      user,
      password,
      ...(otp ? { otp } : {}),
      ...(ttlSeconds ? { ttlSeconds } : {}),
    });
    return outcome;
  });
  print(ctx.io, profileLines(result.profile, ctx.core.clock(), true, false).join('\n'));
  // Said only where it means something: enrolled here, or a cluster that uses device trust.
  const trust = result.deviceTrust;
  if (trust.state === 'off') return 0;
  if (trust.state !== 'not-enrolled-here' || (result.profile.deviceTrustMode ?? 'off') !== 'off') {
    print(ctx.io, `Device trust: ${deviceTrustText(trust)}`);
    const required = requirementLines(profileTrust(ctx.core, result.profile));
    if (required.length > 0) {
      for (const line of required) print(ctx.io, `  ${line}`);
    } else if (trust.state === 'failed') {
      note(ctx.io, `To fix it: ${trust.nextStep}`);
    } else if (trust.state === 'not-enrolled-here') {
      note(
        ctx.io,
        'To enroll it: ask your administrator for an enroll token, then run "gate device enroll" (it asks for the token).',
      );
    }
  }
  return 0;
}

export function parseTtl(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  const seconds = m ? (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0) : 0;
  if (!m || seconds <= 0)
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `--ttl "${text}" is not a duration such as 8h, 30m or 1h30m`);
  return seconds;
}

/** `gate set-password`: see families/session.ts for its options. */
export async function setPassword(ctx: CommandContext, values: SetPasswordOptions): Promise<number> {
  const stdin = new StdinLines(ctx);
  const token = await readToken(ctx, values, stdin, 'gate set-password');
  const result = await withCluster(ctx, values.proxy, async (cluster) => {
    const interactive = !values.passwordStdin && !values.tokenStdin;
    const decision = await establishWithConsent(ctx, cluster, trustOptions(values), interactive);
    reportTrust(ctx, decision, 'once the password is set');
    const password = values.passwordStdin
      ? await stdin.rest('password')
      : await askSecret(ctx, false, 'New password: ', 'password');
    if (!values.passwordStdin) {
      const again = await prompt(ctx.io, 'Repeat the new password: ', { hidden: true });
      if (again !== password) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'the passwords do not match');
    }
    return cluster.setPasswordWithToken(token, password);
  });
  print(ctx.io, `Password set for ${result.user}.`);
  if (result.otpUri) {
    print(ctx.io, 'This cluster asks for a one-time code at login. Add this to your authenticator app:');
    print(ctx.io, `  ${result.otpUri}`);
  }
  print(ctx.io, `Log in with: gate login --proxy ${values.proxy} --user ${result.user}`);
  return 0;
}
