// SSH for one login profile: the in-process ssh2 client (`gate ssh`, desktop terminal tabs) and
// the raw node stream (`gate proxy ssh` for stock OpenSSH). Both run over the same proxy tunnel
// as every gateway; ssh2 loads on first use so commands that never open SSH stay quick.
import type * as tls from 'node:tls';
import type { ProfileAccess } from '../../core/gatehouse-client.ts';
import { sshLocaleEnv } from './locale-env.ts';
import { dialNodeThroughProxy } from './ssh-route.ts';
import type { SshConnection } from './ssh-session.ts';

/**
 * An SSH connection to `node` as `login` through the profile's proxy. `gate ssh` and the desktop
 * app's terminals both open theirs here, so both send the locale (LANG, LC_*) of `localEnv`.
 */
export async function connectSsh(
  access: ProfileAccess,
  node: string,
  login: string,
  localEnv: Readonly<Record<string, string | undefined>> = process.env,
): Promise<SshConnection> {
  const { SshConnection } = await import('./ssh-session.ts');
  return SshConnection.open({
    proxy: access.proxy,
    ...(access.alternateProxies ? { alternateProxies: access.alternateProxies } : {}),
    proxyCaPem: access.proxyCaPem,
    credentials: access.credentials,
    sshHostCaKeys: access.profile.sshHostCaKeys,
    node,
    login,
    clock: access.clock,
    logger: access.logger,
    explainTls: access.explainTls,
    sendEnv: sshLocaleEnv(localEnv),
    ...(access.timeoutMs ? { timeoutMs: access.timeoutMs } : {}),
  });
}

/** The raw byte stream to a node's SSH port through the proxy (for stock ssh). */
export function dialNode(access: ProfileAccess, node: string): Promise<tls.TLSSocket> {
  return dialNodeThroughProxy({
    proxy: access.proxy,
    ...(access.alternateProxies ? { alternateProxies: access.alternateProxies } : {}),
    proxyCaPem: access.proxyCaPem,
    client: { certPem: access.credentials.tlsCertificatePem, keyPem: access.credentials.key.privateKeyPem },
    node,
    explainTls: access.explainTls,
  });
}
