// What an app gateway reaches and where a browser opens it: the app's name and kind (from
// ListApps, so the kind is the cluster's word, not the renderer's), the gateway route for it, and
// the local URL Launch opens.
import type { GatewayRoute } from '../gateways/route.ts';
import type { AppKind } from '../ipc/contract.ts';

export interface OpenAppGatewayInput {
  proxy: string;
  app: string;
  port?: number;
}

export interface AppTarget {
  app: string;
  appKind: AppKind;
}

/** The app route for a gateway: its kind picks ALPN gatehouse-app (http) or gatehouse-tcp (tcp). */
export function appRoute(t: AppTarget): GatewayRoute {
  return { kind: 'app', name: t.app, protocol: t.appKind };
}

/**
 * Where a browser opens an HTTP app's gateway: "localhost" as docs/app-access.md says (the
 * gateway listens on 127.0.0.1; each port is its own origin, so apps' cookies stay apart).
 */
export function appGatewayUrl(localPort: number): string {
  return `http://localhost:${localPort}/`;
}
