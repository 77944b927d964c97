// The database client fronts this build speaks, composed in one place: `gate` and the desktop
// app pass them to builtinRouteProtocols({ dbFronts }) so db routes can answer local clients.
import type { DbClientFronts } from './db-route.ts';
import { MysqlFront } from './mysql-front.ts';
import { PostgresFront } from './postgres-front.ts';

export function builtinDbFronts(): DbClientFronts {
  return { postgres: new PostgresFront(), mysql: new MysqlFront() };
}
