// Apps as a gateway route (docs/app-access.md "The path"): ALPN gatehouse-app for HTTP apps and
// gatehouse-tcp for TCP apps, the header {"app": NAME} the proxy checks against the route
// certificate, and no front: the local client's bytes are relayed from the first one. Only a
// refusal is answered in the client's protocol: an HTTP app's connection gets the denial page
// for every request on it (denial-page.ts); a TCP app's connection is closed, and the reason
// reaches the person through the gateway's refusal event (`gate proxy app` prints it, the
// desktop app shows it in the gateway's tab).
import { ALPN_APP, ALPN_TCP } from '../../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { AppProtocol, GatewayRoute, RouteProtocol } from '../route.ts';
import { HttpDenialPages } from './denial-page.ts';

const ALPN_BY_APP_PROTOCOL: Readonly<Record<AppProtocol, string>> = { http: ALPN_APP, tcp: ALPN_TCP };

function appProtocolOf(route: GatewayRoute): AppProtocol {
  if (route.protocol !== 'http' && route.protocol !== 'tcp') {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `the app gateway for "${route.name}" names no protocol (http or tcp)`,
    );
  }
  return route.protocol;
}

/** The header the proxy's app route reads (src-shared/app-route.ts AppRouteRequestSchema). */
export function appRouteHeader(route: GatewayRoute): Record<string, string> {
  return { app: route.name };
}

/**
 * The app RouteProtocol. One denial server serves every HTTP app gateway of this protocol
 * instance (it never listens: refused sockets are handed to it).
 */
export function appRouteProtocol(pages = new HttpDenialPages()): RouteProtocol {
  return {
    kind: 'app',
    alpn: (route) => ALPN_BY_APP_PROTOCOL[appProtocolOf(route)],
    header: appRouteHeader,
    refusal: (route) => (appProtocolOf(route) === 'http' ? (local, error) => pages.answer(local, error) : undefined),
  };
}
