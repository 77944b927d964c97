// Opens the byte stream to a node through the proxy: TLS with ALPN gatehouse-ssh/1, the user's
// X.509 certificate, strict verification against the pinned proxy CA, then the one-line JSON
// routing handshake. What comes back is a socket that carries plain SSH to the node.
import * as tls from 'node:tls';
import { ALPN_SSH } from '../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { readReply, writeHeaderLine } from '../../src-shared/ssh-route.ts';
import type { TlsFailureExplainer } from './api-errors.ts';
import type { ProxyAddress } from './proxy-address.ts';
import { isTlsVerifyFailure, strictTlsOptions, unreachable } from './proxy-trust.ts';

export interface ProxyDialOptions {
  proxy: ProxyAddress;
  proxyCaPem: string;
  client: { certPem: string; keyPem: string };
  node: string;
  timeoutMs?: number;
  /** Turns a certificate verification failure into the right PROXY_UNTRUSTED message. */
  explainTls?: TlsFailureExplainer;
}

export async function dialNodeThroughProxy(opts: ProxyDialOptions): Promise<tls.TLSSocket> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({ ...strictTlsOptions(opts.proxy, opts.proxyCaPem, opts.client), ALPNProtocols: [ALPN_SSH] });
    const timer = setTimeout(() => {
      s.destroy();
      reject(unreachable(opts.proxy, new Error(`no TLS handshake within ${timeoutMs} ms`)));
    }, timeoutMs);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      s.destroy();
      if (isTlsVerifyFailure(e)) {
        if (opts.explainTls) opts.explainTls(opts.proxy, e).then(reject, reject);
        else
          reject(
            new GatehouseError(
              ErrorCode.PROXY_UNTRUSTED,
              `the proxy at ${opts.proxy.address} is not trusted: ${e.message}`,
            ),
          );
      } else {
        reject(unreachable(opts.proxy, e));
      }
    });
  });
  if (socket.alpnProtocol !== ALPN_SSH) {
    socket.destroy();
    throw new GatehouseError(
      ErrorCode.PROXY_UNREACHABLE,
      `the proxy at ${opts.proxy.address} does not offer SSH routing (${ALPN_SSH})`,
    );
  }
  socket.setNoDelay(true);
  // Errors until ssh2 takes the socket over surface through readReply; keep the process alive.
  const swallow = () => {};
  socket.on('error', swallow);
  try {
    writeHeaderLine(socket, { node: opts.node });
    await readReply(socket, timeoutMs);
  } catch (e) {
    socket.destroy();
    throw e;
  } finally {
    socket.off('error', swallow);
  }
  return socket;
}
