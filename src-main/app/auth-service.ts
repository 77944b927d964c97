// Logging in to an added cluster with a password (and one-time code) and out again. A login
// stores the core's profile (fresh key, SSH + X.509 certificates), records it as the cluster's
// session and selects the cluster; logging out deletes the key and certificates and ends the
// cluster's terminals and gateways, since the user asked to stop using that access. When this
// device is enrolled in the cluster, login includes device authentication (see core DeviceTrust).
import { GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type { GatehouseClient } from '../core/gatehouse-client.ts';
import type { Clock } from '../core/types.ts';
import type { SessionInfo } from '../ipc/contract.ts';
import type { AppClusterStore } from './app-clusters.ts';
import type { AppLogger } from './logger.ts';
import { findLockNotice } from './terminal-lock.ts';
import { canonicalProxy, sessionInfoOf, type ClusterClients, type Sessions } from './sessions.ts';
import type { AppGateways } from './gateways-service.ts';
import type { TerminalsService } from './terminals-service.ts';

export interface LoginInput {
  proxy: string;
  user: string;
  password: string;
  otp?: string | undefined;
}

export class AuthService {
  constructor(
    private readonly deps: {
      core: GatehouseClient;
      store: AppClusterStore;
      clients: ClusterClients;
      sessions: Sessions;
      terminals: TerminalsService;
      gateways: AppGateways;
      clock: Clock;
      log: AppLogger;
    },
  ) {}

  async login(input: LoginInput): Promise<SessionInfo> {
    const proxy = canonicalProxy(input.proxy);
    const { store, clients, sessions, clock, log } = this.deps;
    store.require(proxy);
    const client = await clients.get(proxy);
    // The pin was stored when the cluster was added; this loads it (it never pins anew here).
    await client.establishTrust();
    const otp = input.otp?.trim();
    // Through the core, like `gate login`: an enrolled device also runs device authentication.
    const { profile, deviceTrust } = await this.deps.core
      .login(client, {
        user: input.user,
        password: input.password,
        ...(otp ? { otp } : {}),
      })
      .catch((e: unknown) => {
        throw withLock(e);
      });
    store.setUser(proxy, profile.user);
    store.select(proxy);
    sessions.watch(proxy, profile);
    log.info('logged in', {
      proxy,
      user: profile.user,
      valid_until: profile.validUntil,
      device_trust: deviceTrust.state,
      ...(deviceTrust.state === 'failed' ? { device_trust_code: deviceTrust.code } : {}),
    });
    // The failure (if any) was recorded in the profile by the core, so it shows up here too.
    return sessionInfoOf(this.deps.core, profile, clock());
  }

  /** Forgets the session's key and certificates; does nothing when nobody is logged in. */
  async logout(proxyInput: string): Promise<null> {
    const proxy = canonicalProxy(proxyInput);
    const { store, core, sessions, terminals, gateways, log } = this.deps;
    const user = store.get(proxy)?.user;
    sessions.unwatch(proxy);
    terminals.closeAllFor(proxy);
    await gateways.closeAllFor(proxy);
    if (!user) return null;
    core.logout({ proxy, user });
    store.setUser(proxy, undefined);
    log.info('logged out', { proxy, user });
    return null;
  }
}

/** A login refused by a lock carries it as details.lock, like a terminal a lock cut, for the form to show. */
function withLock(e: unknown): unknown {
  if (!isGatehouseError(e)) return e;
  const lock = findLockNotice(e.message);
  return lock ? new GatehouseError(e.code, e.message, { ...e.details, lock }) : e;
}
