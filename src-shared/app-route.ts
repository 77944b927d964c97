// The one-line JSON headers of an app route (docs/app-access.md "The path"):
//   gateway → proxy:     {"app"}                      ALPN gatehouse-app (HTTP) | gatehouse-tcp (TCP)
//   proxy → app service: {"app","kind","user_cert_pem","client_addr"}   ALPN gatehouse-app-service/1
// Both are answered with ssh-route.ts's reply line ({"ok":true} or {"ok":false,"code","message"});
// after {"ok":true} the bytes flow unchanged (HTTP/1.1 or the TCP app's own protocol).
// Pure stream helpers shared by the gateways (src-main), the proxy and the app service.
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { headerLineErrors, parseHeader } from './db-route.ts';
import { readLine } from './ssh-route.ts';

/** The gateway's header: a name and nothing else. */
export const APP_ROUTE_HEADER_MAX_BYTES = 4096;
/** The proxy's header carries the user's certificate PEM (a few KiB with device fields). */
export const APP_FORWARDED_HEADER_MAX_BYTES = 32 << 10;
const MAX_CERT_PEM_CHARS = 16 << 10;
const MAX_CLIENT_ADDR_CHARS = 300;

/** "http": spec.uri is http:// or https:// (ALPN gatehouse-app); "tcp": tcp://host:port (gatehouse-tcp). */
export const APP_KINDS = ['http', 'tcp'] as const;
export type AppKind = (typeof APP_KINDS)[number];

export const AppRouteRequestSchema = z.strictObject({ app: z.string().min(1).max(253) });
export type AppRouteRequest = z.infer<typeof AppRouteRequestSchema>;

export const AppForwardedHeaderSchema = z.strictObject({
  app: z.string().min(1).max(253),
  kind: z.enum(APP_KINDS),
  user_cert_pem: z.string().min(1).max(MAX_CERT_PEM_CHARS),
  client_addr: z.string().max(MAX_CLIENT_ADDR_CHARS),
});
export type AppForwardedHeader = z.infer<typeof AppForwardedHeaderSchema>;

/** Proxy side: the gateway's header, bounded in size and time. */
export async function readAppRouteRequest(stream: Duplex, timeoutMs = 10_000): Promise<AppRouteRequest> {
  const what = 'app routing header';
  const line = await readLine(stream, timeoutMs, headerLineErrors(what), APP_ROUTE_HEADER_MAX_BYTES);
  return parseHeader(line, AppRouteRequestSchema, what);
}

/** App service side: the proxy's forwarded header, bounded in size and time. */
export async function readAppForwardedHeader(stream: Duplex, timeoutMs = 10_000): Promise<AppForwardedHeader> {
  const what = 'forwarded app header';
  const line = await readLine(stream, timeoutMs, headerLineErrors(what), APP_FORWARDED_HEADER_MAX_BYTES);
  return parseHeader(line, AppForwardedHeaderSchema, what);
}

/** Writes one header as a JSON line (replies: ssh-route.ts writeHeaderLine). */
export function writeAppHeaderLine(stream: Duplex, header: AppRouteRequest | AppForwardedHeader): void {
  stream.write(JSON.stringify(header) + '\n');
}

/** The kind of an app from its spec.uri scheme. */
export function appKindOfUri(uri: string): AppKind {
  return uri.startsWith('tcp://') ? 'tcp' : 'http';
}
