// The route protocols this build can open gateways for. A new kind of access adds its folder
// (gateways/db/, gateways/app/, …) and one entry here.
import { RouteProtocols } from './route.ts';
import { sshRouteProtocol } from './ssh/ssh-route.ts';

export function builtinRouteProtocols(): RouteProtocols {
  return new RouteProtocols([sshRouteProtocol]);
}
