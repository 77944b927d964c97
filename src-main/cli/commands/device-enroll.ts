// `gate device enroll` (token at the prompt, --token-stdin or $GATEHOUSE_TOKEN): enrolls this machine's TPM in the current login's cluster
// with the one-time token an administrator made ("gatectl devices add --enroll" or
// "gatectl devices enroll"). Afterwards every `gate login` to that cluster authenticates the
// device and gets device-trusted certificates.
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { CommandContext } from '../context.ts';
import { note, print } from '../io.ts';
import { readToken, StdinLines } from '../token-input.ts';

const ATTESTATION_TEXT: Record<string, string> = {
  ekcert_trusted: 'EK certificate from a trusted TPM manufacturer CA',
  ekcert: 'EK certificate; its CA is not configured as trusted',
  ekpub: 'EK public key only; the TPM has no EK certificate',
};

/** `gate device enroll`: see families/device.ts for how the token is passed. */
export async function enroll(ctx: CommandContext, values: { token?: string; tokenStdin?: boolean }): Promise<number> {
  const current = ctx.core.profiles.current();
  if (!current) {
    throw new GatehouseError(
      ErrorCode.NOT_LOGGED_IN,
      'not logged in: enrolling a device needs a login to its cluster; run "gate login --proxy ADDRESS --user NAME" first',
    );
  }
  const profile = ctx.core.requireValidProfile();
  const token = await readToken(ctx, values, new StdinLines(ctx), 'gate device enroll');
  const cluster = await ctx.core.cluster(profile.proxy);
  let outcome;
  try {
    await cluster.establishTrust();
    outcome = await ctx.core.device.enroll(cluster, profile, token, (m) => note(ctx.io, m));
  } catch (e) {
    if (e instanceof GatehouseError) throw withNextStep(e);
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
  note(ctx.io, 'Log in again ("gate login") to get device-trusted certificates.');
  return 0;
}

/** The same coded error with what to do next, for the enrollment's own failure modes. */
function withNextStep(e: GatehouseError): GatehouseError {
  const next: Partial<Record<string, string>> = {
    [ErrorCode.BAD_CREDENTIALS]:
      'enroll tokens are single use and expire; ask your administrator for a new one ("gatectl devices enroll")',
    [ErrorCode.DEVICE_ATTESTATION_FAILED]:
      'the cluster did not accept this TPM\'s evidence; check "gate device keyget" and ask your administrator',
    [ErrorCode.NOT_FOUND]: 'ask your administrator to add this device ("gate device asset-tag" prints its asset tag)',
    [ErrorCode.CERT_EXPIRED]: 'run "gate login" again, then enroll',
  };
  const step = next[e.code];
  return step ? new GatehouseError(e.code, `${e.message}\n${step}`, e.details) : e;
}
