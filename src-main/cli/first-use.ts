// First contact with a proxy from `gate login` / `gate set-password`: the core refuses to pin an
// unconfirmed CA (see core/proxy-trust.ts). On a terminal we show the CA's SHA-256 fingerprint and
// ask y/N, as ssh does; a yes pins exactly the CA that was shown (it becomes a --ca-pin, so a
// different CA presented on the retry is refused). Scripts must pass --ca-pin or, knowingly,
// --insecure-trust-on-first-use.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { ClusterClient } from '../core/cluster-client.ts';
import { isFirstUseRefusal, type TrustDecision, type TrustOptions } from '../core/proxy-trust.ts';
import type { CommandContext } from './context.ts';
import { note, prompt } from './io.ts';

/**
 * Where the fingerprint shown came from: with several proxies the CA is read from the first that
 * answered, and a person comparing fingerprints should know which one that was.
 */
function presentedByText(cluster: ClusterClient, details: Record<string, unknown>): string {
  const from = typeof details['presentedBy'] === 'string' ? details['presentedBy'] : cluster.proxy.address;
  if (cluster.proxies.length === 1) return 'Its certificate authority is';
  const why = from === cluster.proxy.address ? '' : ` (${cluster.proxy.address} did not answer)`;
  return `The certificate authority presented by ${from}${why}, which every proxy of the cluster must present, is`;
}

/**
 * establishTrust with the user's consent on first contact. `interactive` is false when stdin
 * carries secrets (--password-stdin, --token-stdin) or is not a terminal.
 */
export async function establishWithConsent(
  ctx: CommandContext,
  cluster: ClusterClient,
  opts: TrustOptions,
  interactive: boolean,
): Promise<TrustDecision> {
  try {
    return await cluster.establishTrust(opts);
  } catch (e) {
    if (!isFirstUseRefusal(e) || !interactive || !ctx.io.stdin.isTTY) throw e;
    const fingerprint = e.details.fingerprint;
    note(ctx.io, `First connection to the proxy at ${cluster.proxy.address}. ${presentedByText(cluster, e.details)}:`);
    note(ctx.io, `  ${fingerprint}`);
    note(ctx.io, 'Compare it with the fingerprint your administrator gives you ("gatectl status", type tls_host).');
    const answer = (await prompt(ctx.io, 'Trust this certificate authority? [y/N] ')).trim();
    if (!/^y(es)?$/i.test(answer)) {
      throw new GatehouseError(
        ErrorCode.PROXY_UNTRUSTED,
        `not connecting: you did not confirm the certificate authority ${fingerprint} of the proxy at ${cluster.proxy.address}`,
        { proxy: cluster.proxy.address, fingerprint, reason: 'first-use-declined' },
      );
    }
    return cluster.establishTrust({ ...opts, caPin: fingerprint });
  }
}
