// Deciding whether to trust a proxy. The proxy presents a server certificate from the cluster's
// X.509 host CA and sends that CA in its chain. First contact needs the user's say: the CA they
// name (--ca-pin / --ca-file), or the one the proxy presents when they confirmed its fingerprint
// (the CLI asks, like ssh) or explicitly accept blind trust on first use (trustOnFirstUse);
// otherwise it is refused (PROXY_UNTRUSTED, reason first-use, with the fingerprint in the
// details), since silently trusting whatever answers lets anyone on the path pose as the
// cluster. Afterwards every connection verifies the chain strictly against the pinned CA.
// A new pin is held in memory until the caller confirms it (after a successful login), so a
// mistyped address or a failed attempt leaves nothing behind in known_proxies.json.
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import { ALPN_API } from '../../src-shared/cert-fields.ts';
import { caFingerprint, makePin, normalizeFingerprint, type KnownProxies, type ProxyPin } from './known-proxies.ts';
import { serverNameFor, type ProxyAddress } from './proxy-address.ts';
import type { Clock } from './types.ts';
import { TLS_CLIENT_SETTINGS } from '../../src-shared/tls-settings.ts';

export interface TrustOptions {
  /** Expected CA fingerprint ("SHA256:<hex>"), e.g. from the administrator. */
  caPin?: string;
  /** The CA certificate itself (PEM), e.g. read from --ca-file. */
  caPem?: string;
  /**
   * On first contact, pin whatever CA the proxy presents (--insecure-trust-on-first-use, or a
   * caller whose user explicitly chose this proxy). Without it first contact is refused.
   */
  trustOnFirstUse?: boolean;
}

/** True for establish()'s refusal of an unconfirmed first contact (details: proxy, fingerprint). */
export function isFirstUseRefusal(e: unknown): e is GatehouseError & { details: { fingerprint: string } } {
  return (
    e instanceof GatehouseError &&
    e.code === ErrorCode.PROXY_UNTRUSTED &&
    e.details?.['reason'] === 'first-use' &&
    typeof e.details['fingerprint'] === 'string'
  );
}

export interface TrustDecision {
  proxy: string;
  fingerprint: string;
  caPem: string;
  source: ProxyPin['source'];
  /** True when this call chose a new CA (first use or an explicit replacement); see confirm(). */
  newlyPinned: boolean;
  /** The fingerprint an explicit --ca-pin / --ca-file replaced. */
  replacedFingerprint?: string;
  /**
   * The proxy whose presented chain this call read the CA from (first contact or --ca-pin): the
   * first of the cluster's proxies that answered, which is not the one keying the pin when that
   * one is down. Absent when nothing was fetched (an existing pin, --ca-file).
   */
  presentedBy?: string;
  /** The proxies before presentedBy that did not answer, each with why (refused, no TLS handshake in time, ...). */
  skipped?: { proxy: string; reason: string }[];
}

/** One proxy's chain, read from the first of several that answered. */
interface FetchedChain {
  chain: Buffer[];
  from: ProxyAddress;
  skipped: { proxy: string; reason: string }[];
}

/** Fetches the certificates a TLS server presents (leaf first), without judging them. */
export type ChainFetcher = (proxy: ProxyAddress, timeoutMs: number) => Promise<Buffer[]>;

/** Node's codes for "this chain does not lead to a CA you trust / is not for this host". */
const VERIFY_FAILURES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isTlsVerifyFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && VERIFY_FAILURES.has(code);
}

/** Why one proxy could not be reached, without the "cannot reach the proxy at ADDR: " that unreachable() adds. */
export function unreachableReason(e: GatehouseError, proxy: ProxyAddress): string {
  const prefix = `cannot reach the proxy at ${proxy.address}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
}

/** PROXY_UNREACHABLE for a cluster none of whose proxies answered, naming each with its reason. */
export function noProxyAnswered(attempts: readonly { proxy: string; reason: string }[]): GatehouseError {
  const each = attempts.map((a) => `${a.proxy} (${a.reason})`).join(', ');
  return new GatehouseError(ErrorCode.PROXY_UNREACHABLE, `cannot reach any of the cluster's proxies: ${each}`, {
    proxy: attempts[0]?.proxy,
    attempts: attempts.map((a) => ({ ...a })),
  });
}

/** Network errors as PROXY_UNREACHABLE naming the address, so users know where we tried. */
export function unreachable(proxy: ProxyAddress, e: unknown): GatehouseError {
  const err = e as NodeJS.ErrnoException;
  const why = err?.code ?? err?.message ?? String(e);
  return new GatehouseError(ErrorCode.PROXY_UNREACHABLE, `cannot reach the proxy at ${proxy.address}: ${why}`, {
    proxy: proxy.address,
  });
}

export const fetchPresentedChain: ChainFetcher = (proxy, timeoutMs) =>
  new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: proxy.host,
      port: proxy.port,
      ...serverNameFor(proxy),
      ALPNProtocols: [ALPN_API],
      // Only to read what the proxy presents; nothing is sent and the socket is closed at once.
      rejectUnauthorized: false,
      ...TLS_CLIENT_SETTINGS,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(unreachable(proxy, new Error(`no TLS handshake within ${timeoutMs} ms`)));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const chain: Buffer[] = [];
      let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (c && c.raw && !chain.some((d) => d.equals(c!.raw))) {
        chain.push(c.raw);
        c = c.issuerCertificate;
      }
      socket.destroy();
      resolve(chain);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(unreachable(proxy, e));
    });
  });

/** The CA certificate at the top of a presented chain; refuses chains that carry none. */
export function caOfChain(proxy: ProxyAddress, chain: Buffer[]): string {
  const top = chain[chain.length - 1];
  const cert = top ? new X509Certificate(top) : undefined;
  if (!cert || !cert.ca || !cert.checkIssued(cert)) {
    throw new GatehouseError(
      ErrorCode.PROXY_UNTRUSTED,
      `the proxy at ${proxy.address} does not send its CA certificate, so it cannot be pinned on first use; ` +
        'ask your administrator for the CA file and pass it with --ca-file',
    );
  }
  return cert.toString();
}

export class ProxyTrust {
  private readonly fetchChain: ChainFetcher;
  private readonly timeoutMs: number;
  /** Pins chosen by establish() and not yet confirmed, by canonical address. */
  private readonly pending = new Map<string, ProxyPin>();

  constructor(
    private readonly known: KnownProxies,
    private readonly clock: Clock,
    opts: { fetchChain?: ChainFetcher; timeoutMs?: number } = {},
  ) {
    this.fetchChain = opts.fetchChain ?? fetchPresentedChain;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** The file pins live in, for messages that tell users where to look. */
  get pinFile(): string {
    return this.known.path;
  }

  /**
   * Makes sure a CA is pinned for the proxy: the explicit one when given (replacing an older pin),
   * the existing pin otherwise, or the CA the proxy presents now on first contact. `alternates`
   * (the cluster's other proxies): when `proxy` cannot be reached, the CA is read from the first
   * of them that answers; the pin stays keyed by `proxy`, and every proxy is verified against it.
   */
  async establish(
    proxy: ProxyAddress,
    opts: TrustOptions = {},
    alternates: readonly ProxyAddress[] = [],
  ): Promise<TrustDecision> {
    const proxies = [proxy, ...alternates.filter((p) => p.address !== proxy.address)];
    this.pending.delete(proxy.address);
    const existing = this.known.get(proxy.address);
    if (opts.caPem) {
      let fp: string;
      try {
        fp = caFingerprint(opts.caPem);
      } catch (e) {
        throw new GatehouseError(
          ErrorCode.BAD_REQUEST,
          `the CA file is not a PEM certificate: ${(e as Error).message}`,
        );
      }
      if (opts.caPin && normalizeFingerprint(opts.caPin) !== fp) {
        throw new GatehouseError(
          ErrorCode.BAD_REQUEST,
          `the CA file's fingerprint ${fp} does not match --ca-pin ${normalizeFingerprint(opts.caPin)}`,
        );
      }
      if (existing?.fingerprint === fp) return this.decision(proxy, existing, false);
      return this.propose(
        proxy,
        makePin(new X509Certificate(opts.caPem).toString(), 'ca-file', this.clock()),
        existing,
      );
    }
    if (opts.caPin) {
      const want = normalizeFingerprint(opts.caPin);
      if (existing?.fingerprint === want) return this.decision(proxy, existing, false);
      const { chain, from, skipped } = await this.fetchFromFirstAnswering(proxies);
      const match = chain.find((der) => caFingerprint(der) === want);
      if (!match) {
        // An answer about trust: the next proxy is not asked instead (it could only agree or confuse).
        const presented = chain.length ? caFingerprint(chain[chain.length - 1]!) : 'no certificate';
        throw new GatehouseError(
          ErrorCode.PROXY_UNTRUSTED,
          `the proxy at ${from.address} does not present the CA ${want} (it presents ${presented}); check the pin with your administrator`,
          { proxy: from.address, expected: want, presented },
        );
      }
      const pin = makePin(new X509Certificate(match).toString(), 'ca-pin', this.clock());
      return { ...this.propose(proxy, pin, existing), presentedBy: from.address, skipped };
    }
    if (existing) return this.decision(proxy, existing, false);
    const { chain, from, skipped } = await this.fetchFromFirstAnswering(proxies);
    const caPem = caOfChain(from, chain);
    if (!opts.trustOnFirstUse) {
      const fingerprint = caFingerprint(caPem);
      const where =
        from.address === proxy.address ? '' : ` (presented by ${from.address}; ${proxy.address} did not answer)`;
      throw new GatehouseError(
        ErrorCode.PROXY_UNTRUSTED,
        `the proxy at ${proxy.address} is not known yet and its certificate authority ${fingerprint}${where} was not confirmed. ` +
          'Check that fingerprint with your administrator ("gatectl status", type tls_host) and pass ' +
          `--ca-pin ${fingerprint}, or pass --insecure-trust-on-first-use to trust whatever the proxy presents`,
        { proxy: proxy.address, fingerprint, presentedBy: from.address, reason: 'first-use' },
      );
    }
    const pin = makePin(caPem, 'first-use', this.clock());
    return { ...this.propose(proxy, pin, undefined), presentedBy: from.address, skipped };
  }

  /**
   * The chain of the first proxy in `proxies` that completes a TLS handshake, each one given the
   * connect time-out once. Only a proxy that could not be reached is passed over; when none
   * answers, PROXY_UNREACHABLE names every proxy with its reason (details.attempts).
   */
  private async fetchFromFirstAnswering(proxies: readonly ProxyAddress[]): Promise<FetchedChain> {
    const attempts: { proxy: string; reason: string }[] = [];
    for (const proxy of proxies) {
      try {
        return { chain: await this.fetchChain(proxy, this.timeoutMs), from: proxy, skipped: attempts };
      } catch (e) {
        if (!isGatehouseError(e) || e.code !== ErrorCode.PROXY_UNREACHABLE || proxies.length === 1) throw e;
        attempts.push({ proxy: proxy.address, reason: unreachableReason(e, proxy) });
      }
    }
    throw noProxyAnswered(attempts);
  }

  /** Writes the pin establish() chose; call it once the proxy proved useful (a login succeeded). */
  confirm(proxy: ProxyAddress): void {
    const pin = this.pending.get(proxy.address);
    if (!pin) return;
    this.known.set(proxy.address, pin);
    this.pending.delete(proxy.address);
  }

  /** The CA to verify the proxy against: a pending pin from establish(), else the stored one. */
  pinned(proxy: ProxyAddress): ProxyPin {
    const pin = this.pending.get(proxy.address) ?? this.known.get(proxy.address);
    if (!pin) {
      throw new GatehouseError(
        ErrorCode.PROXY_UNTRUSTED,
        `the proxy at ${proxy.address} is not known yet; run "gate login --proxy ${proxy.address}"`,
      );
    }
    return pin;
  }

  /**
   * Turns a failed strict handshake into the reason: the proxy now presents a different CA than
   * the pinned one (PROXY_UNTRUSTED with how to recover), or the certificate is wrong in another way.
   * `pinnedAs`: the address keying the pin when `proxy` is another proxy of that cluster (verified
   * against the same CA): such a proxy is refused as not the cluster's, never passed over.
   */
  async explainVerifyFailure(
    proxy: ProxyAddress,
    cause: unknown,
    pinnedAs: ProxyAddress = proxy,
  ): Promise<GatehouseError> {
    const pin = this.pending.get(pinnedAs.address) ?? this.known.get(pinnedAs.address);
    const why = (cause as Error)?.message ?? String(cause);
    let presented: string | undefined;
    try {
      const chain = await this.fetchChain(proxy, this.timeoutMs);
      if (chain.length) presented = caFingerprint(chain[chain.length - 1]!);
    } catch {
      // The first failure is the one to report.
    }
    if (pin && presented && presented !== pin.fingerprint && pinnedAs.address !== proxy.address) {
      return new GatehouseError(
        ErrorCode.PROXY_UNTRUSTED,
        `the proxy at ${proxy.address} presents CA ${presented}, not the cluster's CA ${pin.fingerprint} pinned for ` +
          `${pinnedAs.address} in ${this.known.path}, so it was not used. Every proxy of a cluster must present the ` +
          'same CA: it may be another cluster, a mistyped address, or someone intercepting the connection. ' +
          'Ask your administrator, and remove that address from the list meanwhile.',
        { proxy: proxy.address, pinnedAs: pinnedAs.address, pinned: pin.fingerprint, presented },
      );
    }
    if (pin && presented && presented !== pin.fingerprint) {
      return new GatehouseError(
        ErrorCode.PROXY_UNTRUSTED,
        `the proxy at ${proxy.address} presents CA ${presented}, but CA ${pin.fingerprint} is pinned for it in ${this.known.path}. ` +
          'Someone may be intercepting the connection, or the cluster CA was replaced. If your administrator confirms the new CA, ' +
          `run "gate login --proxy ${proxy.address} --ca-pin ${presented}", or remove the "${proxy.address}" entry from ${this.known.path} to pin it again on first use.`,
        { proxy: proxy.address, pinned: pin.fingerprint, presented },
      );
    }
    return new GatehouseError(
      ErrorCode.PROXY_UNTRUSTED,
      `the proxy at ${proxy.address} presents a certificate that does not verify against its pinned CA: ${why}`,
      { proxy: proxy.address },
    );
  }

  private propose(proxy: ProxyAddress, pin: ProxyPin, existing: ProxyPin | undefined): TrustDecision {
    this.pending.set(proxy.address, pin);
    return this.decision(proxy, pin, true, existing?.fingerprint);
  }

  private decision(proxy: ProxyAddress, pin: ProxyPin, newlyPinned: boolean, replaced?: string): TrustDecision {
    const d: TrustDecision = {
      proxy: proxy.address,
      fingerprint: pin.fingerprint,
      caPem: pin.caPem,
      source: pin.source,
      newlyPinned,
    };
    if (replaced && replaced !== pin.fingerprint) d.replacedFingerprint = replaced;
    return d;
  }
}

/** TLS options that verify the proxy strictly against its pinned CA (and present a client cert when given). */
export function strictTlsOptions(
  proxy: ProxyAddress,
  caPem: string,
  client?: { certPem: string; keyPem: string },
): tls.ConnectionOptions {
  return {
    host: proxy.host,
    port: proxy.port,
    ...serverNameFor(proxy),
    ca: [caPem],
    rejectUnauthorized: true,
    ...TLS_CLIENT_SETTINGS,
    ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
  };
}
