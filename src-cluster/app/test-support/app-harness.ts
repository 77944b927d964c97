// Test-only: an app service on loopback with the production listener and fake inputs (the apps,
// the authorizer's word, locks pushed by hand, an audit sink that refuses reserved fields as the
// audit log does, a SignAppToken stand-in that signs real ES256 JWTs with jose), and a "proxy"
// that connects with a proxy host certificate and sends the forwarded header.
import * as tls from 'node:tls';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { ALPN_APP_SERVICE } from '../../../src-shared/cert-fields.ts';
import type { AppForwardedHeader } from '../../../src-shared/app-route.ts';
import { readReply } from '../../../src-shared/ssh-route.ts';
import type { AuditEventInput } from '../../audit/audit-events.ts';
import type { AccessDecision } from '../../authz/authorize.ts';
import type { AppLimits } from '../../authz/matchers/app.ts';
import type { LockNotice, LockTarget } from '../../locks/lock-targets.ts';
import { createLogger, createMemoryLogger } from '../../log/logger.ts';
import { hostPair, makeDbTestPki, routeCert, type DbTestPki, type KeyAndCert } from '../../db/test-support/db-pki.ts';
import { AppService, type AppServiceOptions } from '../app-service.ts';
import type { ServedApp } from '../app-request.ts';

export { routeCert, type KeyAndCert };

/** Token life the fake signer gives (as auth: 10 minutes). */
export const FAKE_TOKEN_TTL_S = 600;

export interface AppHarness {
  pki: DbTestPki;
  service: AppService;
  port: number;
  apps: Map<string, ServedApp>;
  audit: AuditEventInput[];
  /** What the authorizer answers next (per call). */
  decide: { next: (app: string) => AccessDecision<AppLimits> };
  authorizeCalls: number;
  signCalls: number;
  /** When set, SignAppToken fails as it would with auth away. */
  signFailure: Error | undefined;
  jwks: { keys: JWK[] };
  /** Pushes a lock notice to the service, as the lock watcher does. */
  lock(name: string, message: string, target: LockTarget): void;
  /** A proxy connection with the forwarded header sent and the reply read (throws a refusal). */
  connect(header: Partial<AppForwardedHeader> & { app: string; user_cert_pem: string }): Promise<tls.TLSSocket>;
  close(): Promise<void>;
}

export async function startAppHarness(overrides: Partial<AppServiceOptions> = {}): Promise<AppHarness> {
  const pki = await makeDbTestPki();
  const proxy = await hostPair(pki.hostCa, 'proxy', 'proxy1');
  const own = await hostPair(pki.hostCa, 'app', 'app1');
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const listeners = new Set<(l: LockNotice) => void>();
  const h = {
    pki,
    apps: new Map<string, ServedApp>(),
    audit: [] as AuditEventInput[],
    decide: { next: (_app: string): AccessDecision<AppLimits> => ({ allowed: true, limits: {} }) },
    authorizeCalls: 0,
    signCalls: 0,
    signFailure: undefined as Error | undefined,
    jwks: { keys: [jwk] },
  };
  const service = new AppService({
    serviceName: 'app1',
    listenHost: '127.0.0.1',
    listenPort: 0,
    tls: { certPem: own.certPem, keyPem: own.keyPem, chainPem: [pki.hostCa.certPem] },
    hostCaPems: () => [pki.hostCa.certPem],
    userCaPems: () => [pki.userCa.certPem],
    findApp: async (name) => h.apps.get(name),
    authorize: async (req) => {
      h.authorizeCalls++;
      return h.decide.next(req.resource.name);
    },
    locks: { subscribe: (l) => (listeners.add(l), () => listeners.delete(l)) },
    audit: {
      emit: async (e) => {
        const reserved = ['id', 'time', 'type', 'code', 'user', 'success', 'message'].find(
          (k) => k in (e.fields ?? {}),
        );
        if (reserved) throw new Error(`audit field "${reserved}" is reserved`);
        h.audit.push(e);
      },
    },
    signAppToken: async (_pem, app) => {
      h.signCalls++;
      if (h.signFailure) throw h.signFailure;
      return new SignJWT({ username: 'alice', roles: ['dev'] })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' })
        .setIssuer('test')
        .setSubject('alice')
        .setAudience(h.apps.get(app)?.uri ?? app)
        .setIssuedAt()
        .setExpirationTime(`${FAKE_TOKEN_TTL_S}s`)
        .sign(privateKey);
    },
    limits: { handshakeTimeoutMs: 5_000, maxConnectionsPerSource: 1_000 },
    log: process.env.DBG ? createLogger({ level: 'debug' }) : createMemoryLogger('warn'),
    ...overrides,
  });
  const { port } = await service.start();
  return Object.assign(h, {
    service,
    port,
    lock(name: string, message: string, target: LockTarget) {
      const notice: LockNotice = {
        name,
        message,
        matches: (targets) => targets.some((t) => t.kind === target.kind && t.value === target.value),
      };
      for (const l of listeners) l(notice);
    },
    async connect(header: Partial<AppForwardedHeader> & { app: string; user_cert_pem: string }) {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        cert: proxy.certPem,
        key: proxy.keyPem,
        ca: [pki.hostCa.certPem],
        ALPNProtocols: [ALPN_APP_SERVICE],
        servername: 'localhost',
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', resolve);
        socket.once('error', reject);
      });
      const full: AppForwardedHeader = { kind: 'http', client_addr: '10.1.2.3:5555', ...header };
      socket.write(JSON.stringify(full) + '\n');
      try {
        await readReply(socket, 5_000);
      } catch (e) {
        socket.destroy();
        throw e;
      }
      // readReply leaves the stream paused; the service sends nothing before the client does.
      socket.resume();
      return socket;
    },
    close: () => service.close(),
  });
}

/** The user's app route certificate for `app` (optionally device-trusted). */
export function appCert(
  pki: DbTestPki,
  app: string,
  opts: { user?: string; roles?: string[]; notAfterMs?: number; device?: boolean } = {},
): Promise<KeyAndCert> {
  return routeCert(pki.userCa, {
    user: opts.user ?? 'alice',
    roles: opts.roles ?? ['dev'],
    route: { kind: 'app', name: app },
    ...(opts.notAfterMs !== undefined ? { notAfterMs: opts.notAfterMs } : {}),
    ...(opts.device ? { device: { deviceId: 'dev-1', assetTag: 'AT-1', credentialId: 'cred-1' } } : {}),
  });
}
