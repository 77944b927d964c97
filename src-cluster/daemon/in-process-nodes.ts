// Which SSH node the daemon's proxy may hand a connection to in-process, instead of dialing it.
// In the single-process daemon the proxy and the node share one event loop: a loopback TCP hop
// between them and the proxy's relay cost a socket write, a read and a copy of every byte there,
// the largest avoidable share of that process's work per byte (BENCHMARKS.md "Issue 16: SSH stream").
import type { InProcessNode, RoutableNode } from '../proxy/proxy.ts';

/** The SSH nodes started in this daemon, by name, with the address each registered. */
export type InProcessNodes = Map<string, { address: string; node: InProcessNode }>;

/**
 * The node of this process that `routed` names, or undefined to dial it. The name alone is not
 * enough: another process may register a node of the same name (a second daemon, a stale record),
 * and a connection meant for that one must not land here, so the registered address must match too.
 */
export function inProcessNodeFor(nodes: InProcessNodes | undefined, routed: RoutableNode): InProcessNode | undefined {
  const local = nodes?.get(routed.name);
  return local?.address === routed.address ? local.node : undefined;
}
