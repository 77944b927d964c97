// Pinned proxy CAs (~/.gatehouse/known_proxies.json): the X.509 CA each proxy address was first
// seen with, or that the user named explicitly. Like ssh's known_hosts with `accept-new`: the
// first contact pins, every later connection must chain to the pinned CA.
import { X509Certificate, createHash } from 'node:crypto';
import { statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { readJsonIfExists, writeFileAtomic } from './files.ts';
import { parseProxyAddress } from './proxy-address.ts';

export const KNOWN_PROXIES_FILE = 'known_proxies.json';

const PinSchema = z.object({
  /** "SHA256:" + lower-case hex of the CA certificate's DER, as `gatectl` prints CA fingerprints. */
  fingerprint: z.string(),
  caPem: z.string(),
  /** How trust was established: first use, an explicit --ca-pin, or a --ca-file. */
  source: z.enum(['first-use', 'ca-pin', 'ca-file']),
  pinnedAt: z.string(),
});
export type ProxyPin = z.infer<typeof PinSchema>;

const FileSchema = z.object({ version: z.literal(1), proxies: z.record(z.string(), PinSchema) });

/** Fingerprint of a PEM or DER certificate in the cluster's notation. */
export function caFingerprint(cert: string | Buffer): string {
  const der = typeof cert === 'string' ? new X509Certificate(cert).raw : cert;
  return 'SHA256:' + createHash('sha256').update(der).digest('hex');
}

/** Accepts "SHA256:abcd...", "sha256:AB:CD:..." or bare hex; returns the canonical form. */
export function normalizeFingerprint(pin: string): string {
  const hex = pin
    .trim()
    .replace(/^sha256:/i, '')
    .replaceAll(':', '')
    .toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `"${pin}" is not a CA pin (expected SHA256: followed by 64 hex digits)`,
    );
  }
  return 'SHA256:' + hex;
}

export function makePin(caPem: string, source: ProxyPin['source'], now: Date): ProxyPin {
  return { fingerprint: caFingerprint(caPem), caPem, source, pinnedAt: now.toISOString() };
}

/** What identifies one version of the file: a write (temp file + rename) changes the inode, an edit in place the times or size. */
function fileVersion(st: BigIntStats): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

export class KnownProxies {
  readonly path: string;
  /**
   * The file as last parsed, with the version it was parsed from. Every connection asks for its
   * proxy's pin: a stat instead of a read, a JSON parse and a schema check each time (device
   * authentication's answer call is one such connection on the login's critical path).
   */
  #parsed: { version: string; proxies: Readonly<Record<string, ProxyPin>> } | undefined;

  constructor(home: string) {
    this.path = join(home, KNOWN_PROXIES_FILE);
  }

  private read(): Readonly<Record<string, ProxyPin>> {
    const version = this.version();
    if (version === undefined) return {};
    if (this.#parsed?.version === version) return this.#parsed.proxies;
    const raw = readJsonIfExists(this.path);
    if (raw === undefined) return {};
    const r = FileSchema.safeParse(raw);
    if (!r.success) {
      throw new GatehouseError(
        ErrorCode.STORAGE,
        `${this.path} is damaged; remove it (every proxy will be pinned again on first use)`,
      );
    }
    // Kept only when the file did not change while it was read; otherwise the next call reads again.
    if (this.version() === version) this.#parsed = { version, proxies: r.data.proxies };
    return r.data.proxies;
  }

  /** The file's current version; undefined when it does not exist. */
  private version(): string | undefined {
    try {
      return fileVersion(statSync(this.path, { bigint: true }));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new GatehouseError(ErrorCode.STORAGE, `cannot read ${this.path}: ${(e as Error).message}`, {
        path: this.path,
      });
    }
  }

  private write(proxies: Record<string, ProxyPin>): void {
    // 0644 would do (nothing secret), but the home is private anyway and 0600 keeps it uniform.
    writeFileAtomic(this.path, JSON.stringify({ version: 1, proxies }, null, 2) + '\n');
  }

  get(proxy: string): ProxyPin | undefined {
    return this.read()[parseProxyAddress(proxy).address];
  }

  /** Pins (or re-pins) the CA for a proxy address. */
  set(proxy: string, pin: ProxyPin): ProxyPin {
    // A copy: the parsed file is shared with later reads until the write changes its version.
    const all = { ...this.read() };
    all[parseProxyAddress(proxy).address] = pin;
    this.write(all);
    return pin;
  }

  remove(proxy: string): boolean {
    const all = { ...this.read() };
    const key = parseProxyAddress(proxy).address;
    if (!(key in all)) return false;
    delete all[key];
    this.write(all);
    return true;
  }

  list(): Array<{ proxy: string } & ProxyPin> {
    return Object.entries(this.read()).map(([proxy, pin]) => ({ proxy, ...pin }));
  }
}
