// The one authorizer as a joined service (proxy, node) runs it: over the copy of auth's resources
// that the service runtime keeps current, with a lock view that counts as unreliable while that
// copy is cut off from auth (so locking_mode strict refuses then; see docs/cluster-topology.md).
import { AccessChecker } from '../authz/access.ts';
import { LockWatcher } from '../locks/lock-watcher.ts';
import type { Logger } from '../log/logger.ts';
import type { ServiceRuntime } from '../service/service-runtime.ts';

export interface LocalDecisions {
  /** Not started: the caller starts it inside its own clean-up scope. */
  locks: LockWatcher;
  access: AccessChecker;
}

export function localDecisions(runtime: ServiceRuntime, log: Logger): LocalDecisions {
  const { cache } = runtime;
  const locks = new LockWatcher({
    store: cache.locks,
    log: log.child('locks'),
    lockingMode: () => cache.preference().spec.locking_mode,
    // Locks made while auth is unreachable would be missing from the copy.
    upstreamConnected: () => runtime.connected,
  });
  const access = new AccessChecker(cache.users, cache.roles, log.child('authz'), {
    clusterDeviceTrustMode: () => cache.preference().spec.device_trust.mode,
    locks,
    audit: runtime.audit,
  });
  return { locks, access };
}
