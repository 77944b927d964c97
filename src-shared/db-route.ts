// The one-line JSON headers of a database route (docs/database-access.md "The path"):
//   gateway → proxy:     {"db","db_user","db_name"?}
//   proxy → db service:  the same plus "protocol", "user_cert_pem" and "client_addr"
// Both are answered with ssh-route.ts's reply line ({"ok":true} or {"ok":false,"code","message"}).
// Pure stream helpers shared by the gateways (src-main), the proxy and the db service.
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { ErrorCode, GatehouseError } from './errors.ts';
import { readLine, type LineErrors } from './ssh-route.ts';

/** The gateway's header: names and nothing else, so a few hundred bytes at most. */
export const DB_ROUTE_HEADER_MAX_BYTES = 4096;
/** The proxy's header carries the user's certificate PEM (a few KiB with device fields). */
export const DB_FORWARDED_HEADER_MAX_BYTES = 32 << 10;
/** Longest db user / db name accepted (PostgreSQL allows 63 bytes, MySQL 80 characters). */
export const DB_PRINCIPAL_MAX_CHARS = 256;
const MAX_CERT_PEM_CHARS = 16 << 10;
const MAX_CLIENT_ADDR_CHARS = 300;

export const DB_PROTOCOLS = ['postgres', 'mysql'] as const;

const principal = z.string().min(1).max(DB_PRINCIPAL_MAX_CHARS);
const routeFields = {
  db: z.string().min(1).max(253),
  db_user: principal,
  db_name: principal.optional(),
};

export const DbRouteRequestSchema = z.strictObject(routeFields);
export type DbRouteRequest = z.infer<typeof DbRouteRequestSchema>;

export const DbForwardedHeaderSchema = z.strictObject({
  ...routeFields,
  protocol: z.enum(DB_PROTOCOLS),
  user_cert_pem: z.string().min(1).max(MAX_CERT_PEM_CHARS),
  client_addr: z.string().max(MAX_CLIENT_ADDR_CHARS),
});
export type DbForwardedHeader = z.infer<typeof DbForwardedHeaderSchema>;

/** The line-reading errors of one kind of header (`what` names it in messages). */
export const headerLineErrors = (what: string): LineErrors => ({
  code: ErrorCode.BAD_REQUEST,
  closed: `connection closed before the ${what}`,
  timeout: `no ${what} in time`,
  tooLong: `${what} too long`,
});

/** Parses one JSON line against `schema`; the error names the first offending field. */
export function parseHeader<T>(line: string, schema: z.ZodType<T>, what: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `${what} is not JSON`);
  }
  const r = schema.safeParse(parsed);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : 'header');
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `${what}: ${field}: ${issue.message}`);
  }
  return r.data;
}

/** Proxy side: the gateway's header, bounded in size and time. */
export async function readDbRouteRequest(stream: Duplex, timeoutMs = 10_000): Promise<DbRouteRequest> {
  const what = 'database routing header';
  const line = await readLine(stream, timeoutMs, headerLineErrors(what), DB_ROUTE_HEADER_MAX_BYTES);
  return parseHeader(line, DbRouteRequestSchema, what);
}

/** Db service side: the proxy's forwarded header, bounded in size and time. */
export async function readDbForwardedHeader(stream: Duplex, timeoutMs = 10_000): Promise<DbForwardedHeader> {
  const what = 'forwarded database header';
  const line = await readLine(stream, timeoutMs, headerLineErrors(what), DB_FORWARDED_HEADER_MAX_BYTES);
  return parseHeader(line, DbForwardedHeaderSchema, what);
}

/** Writes one header (or reply) as a JSON line. */
export function writeDbHeaderLine(stream: Duplex, header: DbRouteRequest | DbForwardedHeader): void {
  stream.write(JSON.stringify(header) + '\n');
}
