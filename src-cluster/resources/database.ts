// `kind: db` — a database users reach through the proxy and a db service: its wire protocol, where
// the db service finds it, and how the db service checks the database's server certificate.
// Dynamic ones come from `gatectl create -f`; static ones from a db service's configuration
// (ClusterService.RegisterDatabases, labelled with their origin). Who may use one is the roles'
// `db_labels` / `db_users` / `db_names` (src-cluster/authz/matchers/db.ts).
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { description, labels, resourceName, strictFields, wrongType } from './fields.ts';
import type { KindDefinition } from './registry.ts';
import { validateKind } from './validate.ts';

export const DATABASE_KIND = 'db';
export const DATABASE_PROTOCOLS = ['postgres', 'mysql'] as const;
export type DatabaseProtocol = (typeof DATABASE_PROTOCOLS)[number];

/** Labels RegisterDatabases puts on the databases of a db service's configuration. */
export const DB_ORIGIN_LABEL = 'gatehouse.dev/origin';
export const DB_ORIGIN_CONFIG = 'config';
export const DB_SERVICE_LABEL = 'gatehouse.dev/db-service';

/** A CA bundle of more than this is not a CA bundle (a few certificates are a few KiB). */
export const MAX_CA_CERT_CHARS = 64 << 10;
/** Host part of `uri`: a DNS name or an IP address, as long as a DNS name may be. */
const MAX_HOST_CHARS = 253;

export interface DatabaseTls {
  /** PEM of the CA(s) that signed the database's server certificate; default: the cluster's database CA. */
  ca_cert?: string;
  /** Name checked in the server certificate; default: the host of `uri`. */
  server_name?: string;
}

export interface DatabaseSpec {
  protocol: DatabaseProtocol;
  /** host:port as the db service reaches it. */
  uri: string;
  tls?: DatabaseTls;
}

export interface DatabaseResource {
  kind: typeof DATABASE_KIND;
  version: 'v3';
  metadata: { name: string; description?: string; labels?: Record<string, string> };
  spec: DatabaseSpec;
}

// DNS names (letters, digits, "-", "_", "."), IPv4, or a bracketed IPv6 address.
const HOST_PATTERN = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[[0-9A-Fa-f:.]+\])$/;

/** Why `uri` is not host:port with a port of 1-65535, or undefined. */
export function databaseUriProblem(uri: string): string | undefined {
  const rule = 'expected host:port such as db1.internal:5432 (port 1-65535; IPv6 as [addr]:port)';
  const i = uri.lastIndexOf(':');
  if (i <= 0) return `"${uri}" has no port: ${rule}`;
  const host = uri.slice(0, i);
  const port = uri.slice(i + 1);
  if (host.length > MAX_HOST_CHARS || !HOST_PATTERN.test(host))
    return `"${host}" is not a host name or address: ${rule}`;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return `port "${port}" is not a number from 1 to 65535: ${rule}`;
  }
  return undefined;
}

/** The host part of a checked `uri` (brackets of an IPv6 address removed). */
export function databaseUriHost(uri: string): string {
  return uri.slice(0, uri.lastIndexOf(':')).replace(/^\[|\]$/g, '');
}

/** The port of a checked `uri`. */
export function databaseUriPort(uri: string): number {
  return Number(uri.slice(uri.lastIndexOf(':') + 1));
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Why `pem` is not one or more PEM certificates, or undefined. */
export function caCertProblem(pem: string): string | undefined {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) return 'expected one or more PEM certificates (-----BEGIN CERTIFICATE-----)';
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (e) {
      return `certificate ${i + 1} of ${blocks.length} does not parse: ${(e as Error).message}`;
    }
  }
  return undefined;
}

const text = (what = 'a string') => z.string(wrongType(`expected ${what}`));

const uri = text('host:port').superRefine((value, ctx) => {
  const problem = databaseUriProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
});

const caCert = text('PEM certificates')
  .max(MAX_CA_CERT_CHARS, { error: `must be at most ${MAX_CA_CERT_CHARS} characters` })
  .superRefine((value, ctx) => {
    const problem = caCertProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });

const serverName = text('a host name')
  .max(MAX_HOST_CHARS, { error: `must be at most ${MAX_HOST_CHARS} characters` })
  .regex(HOST_PATTERN, { error: 'expected a host name or IP address such as db1.internal' });

export const databaseSchema: z.ZodType<DatabaseResource> = strictFields({
  kind: z.literal(DATABASE_KIND),
  version: z.literal('v3'),
  metadata: strictFields({
    name: resourceName,
    description: description.optional(),
    labels: labels.optional(),
  }),
  spec: strictFields({
    protocol: z.enum(DATABASE_PROTOCOLS, { error: () => `expected one of: ${DATABASE_PROTOCOLS.join(', ')}` }),
    uri,
    tls: strictFields({ ca_cert: caCert.optional(), server_name: serverName.optional() }).optional(),
  }),
});

function showLabels(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export const databaseKind: KindDefinition<DatabaseResource> = {
  kind: DATABASE_KIND,
  versions: ['v3'],
  schema: databaseSchema,
  description: 'a PostgreSQL or MySQL/MariaDB database reached through a db service',
  aliases: ['dbs', 'database', 'databases'],
  columns: [
    { header: 'PROTOCOL', value: (d) => d.spec.protocol },
    { header: 'URI', value: (d) => d.spec.uri },
    { header: 'LABELS', value: (d) => showLabels(d.metadata.labels) },
  ],
};

/** Builds and validates a database in code; throws INVALID_RESOURCE like parsed input would. */
export function newDatabase(
  name: string,
  spec: DatabaseSpec,
  meta: { description?: string; labels?: Record<string, string> } = {},
): DatabaseResource {
  return validateKind(databaseKind, { kind: DATABASE_KIND, version: 'v3', metadata: { name, ...meta }, spec });
}
