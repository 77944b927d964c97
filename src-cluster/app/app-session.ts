// One live app session: a gateway connection the app service allowed. It carries what every later
// request on the connection is decided against (the identity, the route certificate's expiry, the
// lock targets) and what a lock does to it: a lock marks it (the next HTTP request gets the lock
// page and the connection closes) and cuts what is streaming now (a WebSocket, a TCP relay, a
// response in flight) by destroying the stream, so the client sees the connection close.
import type { Duplex } from 'node:stream';
import type { AppForwardedHeader } from '../../src-shared/app-route.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { TlsIdentity } from '../auth/x509.ts';
import type { LockTarget } from '../locks/lock-targets.ts';
import type { ServedApp } from './app-request.ts';
import type { AppSessionAudit } from './app-session-audit.ts';
import type { CachedAppToken } from './app-token-cache.ts';

export const APP_CERT_EXPIRED_MESSAGE = 'your app certificate has expired; log in again ("gate login")';

/** What a lock on this session may name: the user, the certificate's roles, the device, the app. */
export function appSessionTargets(identity: TlsIdentity, app: string): LockTarget[] {
  const targets: LockTarget[] = [{ kind: 'user', value: identity.user }];
  for (const role of identity.roles) targets.push({ kind: 'role', value: role });
  if (identity.device?.deviceId) targets.push({ kind: 'device', value: identity.device.deviceId });
  targets.push({ kind: 'app', value: app });
  return targets;
}

export class AppSession {
  readonly targets: LockTarget[];
  /** The route certificate's notAfter (epoch ms): requests from then on are refused. */
  readonly notAfter: number;
  /** The app as it was last decided (a request re-reads it). */
  app: ServedApp;
  /** Until when `app` and the authorizer's last word hold for new requests (epoch ms). */
  decidedUntil = 0;
  /** The JWT for the upstream while it is fresh (AppTokenCache decides freshness). */
  token: CachedAppToken | undefined;
  /** Set by a lock: the lock's words, for the next request's page and the end event. */
  lockedBy: string | undefined;
  /** Why the session ended early (lock, expiry), for app.session.end. */
  endedBy: string | undefined;
  /** Something streams now that a lock must cut (a response in flight, a WebSocket, a TCP relay). */
  streaming = 0;
  /** The stream's byte counts when the last HTTP request ended (per-request bytes). */
  bytesMark = { read: 0, written: 0 };

  constructor(
    readonly stream: Duplex,
    readonly header: AppForwardedHeader,
    readonly identity: TlsIdentity,
    readonly certKey: string,
    readonly audit: AppSessionAudit,
    app: ServedApp,
  ) {
    this.app = app;
    this.targets = appSessionTargets(identity, header.app);
    this.notAfter = identity.notAfter.getTime();
  }

  /** The refusals that need no lookup: a lock seen on this session, an expired certificate. */
  quickRefusal(now: number): GatehouseError | undefined {
    if (this.lockedBy !== undefined) return new GatehouseError(ErrorCode.ACCESS_DENIED, this.lockedBy);
    if (now >= this.notAfter) return new GatehouseError(ErrorCode.CERT_EXPIRED, APP_CERT_EXPIRED_MESSAGE);
    return undefined;
  }

  /** A lock came into force for this session: refuse from now on, and cut what streams. */
  lock(message: string): void {
    this.lockedBy = message;
    this.endedBy = message;
    if (this.streaming > 0) this.stream.destroy();
  }

  /** Ends the session at once (service shutdown). */
  terminate(message: string): void {
    this.endedBy ??= message;
    this.stream.destroy();
  }
}
