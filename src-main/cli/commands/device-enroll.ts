// `gate device enroll [--auto]`: enrolls this machine's TPM in the current login's cluster, with
// the one-time token an administrator made ("gatectl devices add --enroll" / "gatectl devices
// enroll"; at the prompt, --token-stdin or $GATEHOUSE_TOKEN) or, with --auto, a token the cluster
// makes for a registered device when auto-enroll is on. Then device authentication runs at once
// on the same login: the session is device-trusted without "gate login" again.
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { EnrollMethod } from '../../core/device-trust.ts';
import type { EnrollStepName } from '../../core/enroll-steps.ts';
import type { CommandContext } from '../context.ts';
import { note, print } from '../io.ts';
import { readToken, StdinLines } from '../token-input.ts';

const ATTESTATION_TEXT: Record<string, string> = {
  ekcert_trusted: 'EK certificate from a trusted TPM manufacturer CA',
  ekcert: 'EK certificate; its CA is not configured as trusted',
  ekpub: 'EK public key only; the TPM has no EK certificate',
};

const STEP_TEXT: Record<EnrollStepName, string> = {
  'check-tpm': 'Opening the TPM',
  'create-ak': 'Loading the attestation key',
  'activate-credential': "Answering the cluster's TPM challenge",
  quote: 'Sending a quote',
  authenticate: 'Authenticating this login with the device',
  done: 'Done',
};

/** `gate device enroll`: see families/device.ts for how the token is passed. */
export async function enroll(
  ctx: CommandContext,
  values: { token?: string; tokenStdin?: boolean; auto?: boolean },
): Promise<number> {
  const current = ctx.core.profiles.current();
  if (!current) {
    throw new GatehouseError(
      ErrorCode.NOT_LOGGED_IN,
      'not logged in: enrolling a device needs a login to its cluster; run "gate login --proxy ADDRESS --user NAME" first',
    );
  }
  const profile = ctx.core.requireValidProfile();
  if (values.auto && (values.token || values.tokenStdin)) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, '--auto asks the cluster for the token: give no token with it');
  }
  const how: EnrollMethod = values.auto
    ? { auto: true }
    : { token: await readToken(ctx, values, new StdinLines(ctx), 'gate device enroll') };
  const cluster = await ctx.core.cluster(profile.proxy);
  let outcome;
  try {
    await cluster.establishTrust();
    outcome = await ctx.core.device.enrollAndTrust(cluster, profile, how, {
      onNotice: (m) => note(ctx.io, m),
      onStep: (step, state) => {
        if (state === 'running' && step !== 'done') note(ctx.io, `${STEP_TEXT[step]}...`);
      },
    });
  } catch (e) {
    if (e instanceof GatehouseError) throw withNextStep(e, profile.cluster);
    throw e;
  } finally {
    cluster.close();
  }
  const d = outcome.device;
  print(ctx.io, `Device "${d.assetTag}"/${d.osType} enrolled`);
  print(ctx.io, `  Device ID:        ${d.id}`);
  print(ctx.io, `  Cluster:          ${profile.cluster} (${profile.proxy})`);
  print(
    ctx.io,
    `  Attestation type: ${d.attestationType}${ATTESTATION_TEXT[d.attestationType] ? ` (${ATTESTATION_TEXT[d.attestationType]})` : ''}`,
  );
  print(ctx.io, `  Credential ID:    ${outcome.record.credentialId}`);
  print(ctx.io, `  Took:             ${outcome.totalMs} ms`);
  note(ctx.io, `This login (${outcome.profile.user}) is now device-trusted; no need to log in again.`);
  return 0;
}

/** What to do about an enroll token's or auto-enroll's refusal, by details.reason. */
export function enrollFailureNextStep(e: GatehouseError, cluster: string): string | undefined {
  const byReason: Partial<Record<string, string>> = {
    expired: 'this enroll token has expired; ask your administrator for a new one ("gatectl devices enroll")',
    used: 'an enroll token works once and this one was used; ask your administrator for a new one ("gatectl devices enroll")',
    unknown: `cluster "${cluster}" does not know this token: check it was copied whole, or ask your administrator for a new one`,
    asset_tag_mismatch:
      'this token was made for another device; give your administrator this device\'s asset tag ("gate device asset-tag") for a token of its own',
    auto_enroll_off: 'ask your administrator for an enroll token and run "gate device enroll" without --auto',
    not_registered: 'once your administrator has added the device, run "gate device enroll --auto" again',
    already_enrolled: 'this device is enrolled already: run "gate login" to get device-trusted certificates',
    relogin_required: 'the enrollment is done: run "gate login" to get device-trusted certificates',
  };
  const reason = e.details?.['reason'];
  if (typeof reason === 'string' && byReason[reason]) return byReason[reason];
  const byCode: Partial<Record<string, string>> = {
    [ErrorCode.BAD_CREDENTIALS]:
      'enroll tokens are single use and expire; ask your administrator for a new one ("gatectl devices enroll")',
    [ErrorCode.DEVICE_ATTESTATION_FAILED]:
      'the cluster did not accept this TPM\'s evidence; check "gate device keyget" and ask your administrator',
    [ErrorCode.NOT_FOUND]: 'ask your administrator to add this device ("gate device asset-tag" prints its asset tag)',
    [ErrorCode.CERT_EXPIRED]: 'run "gate login" again, then enroll',
  };
  return byCode[e.code];
}

/** The same coded error with what to do next. */
function withNextStep(e: GatehouseError, cluster: string): GatehouseError {
  const step = enrollFailureNextStep(e, cluster);
  return step ? new GatehouseError(e.code, `${e.message}\n${step}`, e.details) : e;
}
