// The daemon config's `db_service` section (docs/database-access.md): whether this process runs
// a db service, where it listens, and the databases it serves statically. Each database is
// checked as a kind "db" resource would be (name, protocol, host:port with a port, PEM CA), and
// a `tls.ca_cert_file` is read at load, so a bad entry stops the daemon with the field named
// instead of surfacing as a failed connection later.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { caCertProblem, databaseUriProblem, MAX_CA_CERT_CHARS } from '../resources/database.ts';
import { serviceListenerFields } from './service-config-fields.ts';

/** Default listener of the db service (the proxy has 3080, the node 3022). */
export const DEFAULT_DB_SERVICE_ADDR = '127.0.0.1:3081';
const MAX_DATABASES = 256;
/**
 * Connections from one address: every session through a proxy comes from that proxy's address,
 * so the cap is per proxy, not per user; higher than the proxy's 100 per client address.
 */
export const DEFAULT_DB_MAX_CONNECTIONS_PER_PROXY = 1000;

// The same checks as the kind "db" resource, so the config refuses what `gatectl create` would.
const hostName = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[[0-9A-Fa-f:.]+\])$/;
const uri = z.string().superRefine((value, ctx) => {
  const problem = databaseUriProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const pem = z
  .string()
  .max(MAX_CA_CERT_CHARS)
  .superRefine((value, ctx) => {
    const problem = caCertProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const DatabaseEntrySchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits, ".", "_" and "-"'),
  description: z.string().max(1024).optional(),
  labels: z.record(z.string().max(253), z.string().max(253)).optional(),
  protocol: z.enum(['postgres', 'mysql']),
  uri,
  tls: z
    .strictObject({
      ca_cert: pem.optional(),
      ca_cert_file: z.string().min(1).optional(),
      server_name: z.string().regex(hostName, 'expected a host name or IP address').max(253).optional(),
    })
    .refine((t) => !(t.ca_cert && t.ca_cert_file), 'give ca_cert or ca_cert_file, not both')
    .optional(),
});

export const DbServiceConfigSchema = z
  .strictObject({
    ...serviceListenerFields(DEFAULT_DB_SERVICE_ADDR, DEFAULT_DB_MAX_CONNECTIONS_PER_PROXY),
    databases: z
      .array(DatabaseEntrySchema)
      .max(MAX_DATABASES)
      .default([])
      .superRefine((dbs, ctx) => {
        const seen = new Set<string>();
        dbs.forEach((db, i) => {
          if (seen.has(db.name))
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${db.name}" is listed twice` });
          seen.add(db.name);
        });
      }),
  })
  .prefault({});

export type DbServiceConfig = z.infer<typeof DbServiceConfigSchema>;
export type ConfiguredDatabase = DbServiceConfig['databases'][number];

/**
 * The databases with each `tls.ca_cert_file` read into `tls.ca_cert` (a file that cannot be read
 * or holds no certificate is a CONFIG error naming the field).
 */
export function resolveDatabaseFiles(cfg: DbServiceConfig, source: string): DbServiceConfig {
  const databases = cfg.databases.map((db, i) => {
    const file = db.tls?.ca_cert_file;
    if (!file) return db;
    const field = `db_service.databases.${i}.tls.ca_cert_file`;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new GatehouseError(ErrorCode.CONFIG, `${source}: ${field}: cannot read ${file}: ${why}`, { field });
    }
    const problem = caCertProblem(text);
    if (problem) throw new GatehouseError(ErrorCode.CONFIG, `${source}: ${field}: ${file}: ${problem}`, { field });
    const { ca_cert_file: _file, ...tls } = db.tls!;
    return { ...db, tls: { ...tls, ca_cert: text } };
  });
  return { ...cfg, databases };
}
