// Test-only: runs the server half of a device ceremony one message at a time, the way a Connect
// bidi stream feeds it (a push-based request stream the test writes to while the generator
// waits), plus a throwaway cluster side: sqlite inventory on a temp dir, the cluster's CAs, and
// the login certificates a user holds before device authentication.
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, isGatehouseError } from '../../../src-shared/errors.ts';
import { SSH_EXT_ROLES } from '../../../src-shared/cert-fields.ts';
import {
  formatCertificateLine,
  publicKeyToWire,
  signCertificate,
  STANDARD_USER_EXTENSIONS,
} from '../../../src-shared/sshcert/index.ts';
import { loadOrCreateAuthorities, type CertAuthorities } from '../../auth/authorities.ts';
import { issueClientCert } from '../../auth/x509.ts';
import { createMemoryLogger } from '../../log/logger.ts';
import type { Backend } from '../../storage/backend.ts';
import { SqliteBackend } from '../../storage/sqlite.ts';
import type { AuthenticationDeps } from '../authentication.ts';
import { DeviceInventory, type StoredDevice } from '../inventory.ts';

/** An AsyncIterable the test pushes into; the consumer waits while it is empty. */
class PushStream<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  readonly #waiting: ((r: IteratorResult<T>) => void)[] = [];
  #ended = false;

  push(item: T): void {
    if (this.#ended) throw new Error('request stream already ended');
    const w = this.#waiting.shift();
    if (w) w({ done: false, value: item });
    else this.#items.push(item);
  }

  end(): void {
    this.#ended = true;
    for (const w of this.#waiting.splice(0)) w({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ done: false, value: item });
        if (this.#ended) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => this.#waiting.push(resolve));
      },
    };
  }
}

/** One ceremony: send() a request, receive() the server's next message (or its error). */
export class Ceremony<Req, Res> {
  readonly #requests = new PushStream<Req>();
  readonly #responses: AsyncGenerator<Res>;

  constructor(run: (requests: AsyncIterable<Req>) => AsyncGenerator<Res>) {
    this.#responses = run(this.#requests);
  }

  send(request: Req): this {
    this.#requests.push(request);
    return this;
  }

  /** The server's next message; rejects with the error the server ends the ceremony with. */
  async receive(): Promise<Res> {
    const r = await this.#responses.next();
    if (r.done) throw new Error('the server ended the ceremony without another message');
    return r.value;
  }

  /** After the last message the server must end the stream. */
  async end(): Promise<void> {
    const r = await this.#responses.next();
    assert.equal(r.done, true, 'the server sent more messages after success');
  }

  /** The client goes away mid-ceremony (the stream is closed). */
  async abandon(): Promise<void> {
    this.#requests.end();
    await this.#responses.return(undefined);
  }
}

/** The payload value of a response if it is of `kind`, else a failed assertion naming what came. */
export function payloadOf<P extends { case: string | undefined; value?: unknown }, K extends string>(
  res: { payload?: P },
  kind: K,
): Extract<P, { case: K }>['value'] {
  assert.equal(res.payload?.case, kind, `expected a ${kind} message, got ${res.payload?.case ?? 'none'}`);
  return res.payload!.value as Extract<P, { case: K }>['value'];
}

/** Asserts `p` rejects with this code, and (when given) this details.reason and a message matching. */
export async function rejectsWith(
  p: Promise<unknown>,
  code: ErrorCode,
  reason: string | undefined,
  message?: RegExp,
): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isGatehouseError(e), `expected a GatehouseError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (reason !== undefined) assert.equal(e.details?.['reason'], reason, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

export interface TestCluster {
  inventory: DeviceInventory;
  /** The inventory's storage, for tests and benches that write records directly. */
  backend: Backend;
  cas: CertAuthorities;
  log: ReturnType<typeof createMemoryLogger>;
  /** The EK CA list the ceremonies read (mutable per test). */
  ekCas: string[];
  deps: AuthenticationDeps;
  /** Moves the inventory's and the ceremonies' clock forward (the storage clock stays real). */
  advance(ms: number): void;
  close(): Promise<void>;
}

export async function startTestCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ceremony-db-'));
  const backend = await SqliteBackend.open({ path: join(dir, 'cluster.db') });
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  const log = createMemoryLogger();
  const inventory = new DeviceInventory(backend, { now });
  const cas = await loadOrCreateAuthorities(backend, 'ceremony-test', log);
  const ekCas: string[] = [];
  return {
    inventory,
    backend,
    cas,
    log,
    ekCas,
    deps: { inventory, cas, log, now, ekCertAllowedCas: () => [...ekCas], stepTimeoutMs: 20_000 },
    advance: (ms) => void (offset += ms),
    async close() {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A device registered for enrollment, with a fresh token. */
export async function registerDevice(c: TestCluster, assetTag: string) {
  const device = await c.inventory.add({ assetTag, osType: 'linux' });
  const { token } = await c.inventory.createEnrollToken(device.metadata.name);
  return { id: device.metadata.name, token };
}

/** Nothing was stored: the device record is exactly as before, and (if given) the token is spent. */
export async function assertNothingStored(c: TestCluster, before: StoredDevice, spentToken?: string): Promise<void> {
  const now = await c.inventory.get(before.metadata.name);
  assert.deepEqual(now, before, 'the device record changed');
  if (spentToken !== undefined) {
    await rejectsWith(c.inventory.spendEnrollToken(spentToken), ErrorCode.BAD_CREDENTIALS, 'used', /already used/);
  }
}

export interface LoginCerts {
  user: string;
  key: KeyObject;
  sshCertificate: string;
  tlsCertificatePem: string;
  /** DER of the TLS cert: what the mTLS connection would present. */
  certDer: Buffer;
  notAfter: Date;
}

/** The certificates `gate login` gets from the auth server, as issueUserCerts makes them. */
export async function loginCerts(cas: CertAuthorities, user: string, ttlMs = 3600_000): Promise<LoginCerts> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Math.floor((Date.now() + ttlMs) / 1000) * 1000);
  const blob = signCertificate({
    publicKey: publicKeyToWire(publicKey),
    type: 'user',
    keyId: user,
    principals: [user, 'root'],
    validAfter: BigInt(Math.floor(notBefore.getTime() / 1000)),
    validBefore: BigInt(notAfter.getTime() / 1000),
    extensions: { ...STANDARD_USER_EXTENSIONS, [SSH_EXT_ROLES]: JSON.stringify(['dev']) },
    caPrivateKey: cas.sshUser.privateKey,
  });
  const tlsCertificatePem = await issueClientCert({
    ca: cas.tlsUser.material,
    publicKey,
    notBefore,
    notAfter,
    user,
    roles: ['dev'],
    logins: [user, 'root'],
  });
  return {
    user,
    key: privateKey,
    sshCertificate: formatCertificateLine(blob, user),
    tlsCertificatePem,
    certDer: new X509Certificate(tlsCertificatePem).raw,
    notAfter,
  };
}
