// The daemon's YAML configuration. Everything has a default so `gatehouse start` with no file
// runs the embedded cluster; each service can be switched off to run it in its own process.
import { MAX_AUTH_SERVERS } from '../service/auth-addresses.ts';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseDocument, LineCounter, isMap, isSeq, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { defaultDataDir } from './data-dir.ts';
import { checkPostgresUrl } from '../storage/postgres-connection.ts';
import {
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_LOGIN_GRACE_TIME,
  DEFAULT_MAX_CONNECTIONS_PER_IP,
} from '../limits/limits.ts';
import { DEFAULT_LOCKOUT, MAX_LOCKOUT_ATTEMPTS } from '../auth/login-lockout.ts';
import { DbServiceConfigSchema, resolveDatabaseFiles } from './db-config.ts';
import { AppServiceConfigSchema } from './app-config.ts';
import { acceptEnvProblem, DEFAULT_ACCEPT_ENV, MAX_ACCEPT_ENV_ENTRIES } from '../node/session-env.ts';
import { sshAlgorithmListProblem, type SshAlgorithmSetting } from '../../src-shared/ssh-algorithms.ts';

const addr = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT');
const duration = z
  .string()
  .regex(/^(\d+h)?(\d+m)?(\d+s)?$/, 'expected a duration such as 12h, 30m or 1h30m')
  .refine((s) => s.length > 0);

// A time-out of 0 would mean "never": not offered, a limit must limit.
const timeout = duration.refine((s) => !/^(0+[hms])+$/.test(s), 'must be more than 0s');
const perSource = z.number().int().min(1).max(1_000_000);

/** An `ssh.<setting>` list; the message names each unknown algorithm and lists the allowed ones. */
const sshAlgorithmList = (setting: SshAlgorithmSetting) =>
  z
    .array(z.string())
    .max(16)
    .superRefine((names, ctx) => {
      const problem = sshAlgorithmListProblem(setting, names);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: names });
    })
    .optional();
const MAX_PG_POOL_SIZE = 200;

/** Cross-field rules of `storage`; each problem names its field. */
function checkStorageConfig(
  storage: { type: 'sqlite' | 'postgres'; path?: string; conn_string?: string; audit: { type?: string } },
  ctx: z.RefinementCtx,
): void {
  const problem = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message, input: storage });
  if (storage.type === 'postgres') {
    if (storage.path !== undefined) problem(['path'], 'path is for storage type sqlite; postgres uses conn_string');
    if (storage.conn_string === undefined) problem(['conn_string'], 'required for storage type postgres');
    else {
      try {
        checkPostgresUrl(storage.conn_string);
      } catch (e) {
        problem(['conn_string'], (e as Error).message.replace(/^storage\.conn_string:? ?/, ''));
      }
    }
  } else if (storage.conn_string !== undefined) {
    problem(['conn_string'], 'conn_string is for storage type postgres (set type: postgres)');
  }
  if (storage.audit.type !== undefined && storage.audit.type !== storage.type) {
    problem(
      ['audit', 'type'],
      `must be the storage type (${storage.type}): audit events are stored with their indexes in the cluster backend`,
    );
  }
}

const ConfigSchema = z.strictObject({
  version: z.literal('v1').default('v1'),
  cluster_name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'lowercase letters, digits, "." and "-"')
    .optional(),
  data_dir: z.string().optional(),
  // Where a proxy or node running without auth in this process reaches auth's API (HOST:PORT).
  auth_server: addr.optional(),
  // Several auth servers on one PostgreSQL: tried in order, the next one on a failed connect or a
  // broken watch (auth_server, when also set, is tried first).
  auth_servers: z.array(addr).min(1).max(MAX_AUTH_SERVERS).optional(),
  // The join token a service proves once to get its host identity; kept out of argv by
  // GATEHOUSE_JOIN_TOKEN or join_token_file. Unused once the identity is in the data dir.
  join_token: z.string().min(1).max(512).optional(),
  join_token_file: z.string().min(1).optional(),
  // "SHA256:<hex>" of auth's TLS host CA (`gatectl status`): checked before the token is sent.
  ca_pin: z
    .string()
    .regex(/^SHA256:[0-9a-f]{64}$/, 'expected SHA256:<64 hex digits> (gatectl status prints it)')
    .optional(),
  log: z
    .strictObject({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      format: z.enum(['text', 'json']).default('text'),
    })
    .prefault({}),
  storage: z
    .strictObject({
      // sqlite (default): one file in the data dir, one auth server. postgres: any number of
      // auth servers on one database (docs in README "Running on PostgreSQL").
      type: z.enum(['sqlite', 'postgres']).default('sqlite'),
      path: z.string().optional(),
      conn_string: z.string().min(1).optional(),
      pool_size: z.number().int().min(1).max(MAX_PG_POOL_SIZE).default(10),
      connect_timeout: timeout.default('10s'),
      statement_timeout: timeout.default('30s'),
      // The audit log is written through the cluster backend (its events and index keys in one
      // transaction), so its type can only be the storage type; stated for Teleport-style configs.
      audit: z.strictObject({ type: z.enum(['sqlite', 'postgres']).optional() }).prefault({}),
    })
    .superRefine(checkStorageConfig)
    .prefault({}),
  auth: z
    .strictObject({
      enabled: z.boolean().default(true),
      // Auth's own API listener (mTLS optional per call), which services join and talk to.
      // Unset in the single-process default: an ephemeral loopback port only this process uses.
      listen_addr: addr.optional(),
      second_factor: z.enum(['off', 'otp']).default('off'),
      cert_ttl: duration.default('12h'),
      // Account lockout: max_attempts failed logins within `duration` lock the user for `duration`.
      lockout: z
        .strictObject({
          max_attempts: z.number().int().min(1).max(MAX_LOCKOUT_ATTEMPTS).default(DEFAULT_LOCKOUT.maxAttempts),
          duration: duration.default('30m'),
        })
        .prefault({}),
      device_trust: z
        .strictObject({
          // EK certificate CAs (PEM file paths or inline PEM): when set, only TPMs whose EK
          // certificate chains to one of them can enroll (attestation type ekcert_trusted).
          ekcert_allowed_cas: z.array(z.string().min(1)).default([]),
          // Whether TPMs vouched for by their EK public key alone may enroll (default true, as
          // Teleport; any software TPM qualifies). Seeds cluster_auth_preference device_trust.ekpub_allowed.
          ekpub_allowed: z.boolean().default(true),
        })
        .prefault({}),
    })
    .prefault({}),
  proxy: z
    .strictObject({
      enabled: z.boolean().default(true),
      // The proxy's name in the inventory (`gatectl nodes ls`); default: the short host name.
      name: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/)
        .optional(),
      listen_addr: addr.default('127.0.0.1:3080'),
      public_addr: addr.optional(),
      handshake_timeout: timeout.default(DEFAULT_HANDSHAKE_TIMEOUT),
      idle_timeout: timeout.default(DEFAULT_IDLE_TIMEOUT),
      max_connections_per_ip: perSource.default(DEFAULT_MAX_CONNECTIONS_PER_IP),
    })
    .prefault({}),
  node: z
    .strictObject({
      enabled: z.boolean().default(true),
      name: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/)
        .optional(),
      listen_addr: addr.default('127.0.0.1:3022'),
      labels: z.record(z.string(), z.string()).default({}),
      login_grace_time: timeout.default(DEFAULT_LOGIN_GRACE_TIME),
      max_connections_per_ip: perSource.default(DEFAULT_MAX_CONNECTIONS_PER_IP),
    })
    .prefault({}),
  // The node's SSH sessions: which client-sent variables reach the shell (OpenSSH AcceptEnv).
  ssh_service: z
    .strictObject({
      accept_env: z
        .array(
          z.string().superRefine((pattern, ctx) => {
            const problem = acceptEnvProblem(pattern);
            if (problem) ctx.addIssue({ code: 'custom', message: problem, input: pattern });
          }),
        )
        .max(MAX_ACCEPT_ENV_ENTRIES)
        .default([...DEFAULT_ACCEPT_ENV]),
    })
    .prefault({}),
  // The node's SSH algorithms (src-shared/ssh-algorithms.ts): each list replaces the default set,
  // in the order given; fips picks NIST-curve kex and AES-GCM where no list is given.
  ssh: z
    .strictObject({
      kex_algorithms: sshAlgorithmList('kex_algorithms'),
      ciphers: sshAlgorithmList('ciphers'),
      macs: sshAlgorithmList('macs'),
      fips: z.boolean().default(false),
    })
    .prefault({}),
  // Database access (docs/database-access.md); off unless configured or asked for with --roles.
  db_service: DbServiceConfigSchema,
  // Application access (docs/app-access.md); off unless configured or asked for with --roles.
  app_service: AppServiceConfigSchema,
  // The diagnostics listener (GET /healthz, /readyz, /metrics; Teleport's diag_addr). Off unless
  // set (or --diag-addr): an unasked-for port is attack surface and collides when several
  // processes share a host; an ephemeral default could not be found by a scraper anyway.
  diagnostics: z
    .strictObject({
      listen_addr: addr.optional(),
    })
    .prefault({}),
});

type ParsedConfig = z.infer<typeof ConfigSchema>;
export type DaemonConfig = Omit<ParsedConfig, 'node'> & {
  data_dir: string;
  cluster_name: string;
  node: ParsedConfig['node'] & { name: string };
};

export { defaultDataDir };

export function parseDurationMs(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!m || text === '') throw new GatehouseError(ErrorCode.CONFIG, `bad duration "${text}"`);
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

function lineOf(doc: YamlNode | null | undefined, path: (string | number)[], lc: LineCounter): number | undefined {
  let node: unknown = doc;
  let last: unknown = doc;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown })?.value === key);
      if (!pair) break;
      last = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
    } else break;
    if (node) last = node;
  }
  const range = (last as { range?: [number, number, number] } | undefined)?.range;
  return range ? lc.linePos(range[0]).line : undefined;
}

/** Parses config text; errors name the field, the line and, for enums, the allowed values. */
export function parseConfig(text: string, source = 'config'): DaemonConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new GatehouseError(ErrorCode.CONFIG, `${source}: invalid YAML: ${doc.errors[0]!.message}`);
  }
  const raw = doc.toJS() ?? {};
  const r = ConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    let field = path.join('.');
    let msg = issue.message;
    if (issue.code === 'unrecognized_keys') {
      field = [...path, issue.keys[0]].join('.');
      msg = 'unknown field';
    }
    const line = lineOf(doc.contents, issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]!] : path, lc);
    throw new GatehouseError(
      ErrorCode.CONFIG,
      `${source}: ${field || '(top level)'}: ${msg}${line ? ` (line ${line})` : ''}`,
      { field, line },
    );
  }
  const cfg = r.data;
  const dataDir = cfg.data_dir ?? defaultDataDir();
  return {
    ...cfg,
    data_dir: dataDir,
    cluster_name: cfg.cluster_name ?? 'gatehouse',
    node: { ...cfg.node, name: cfg.node.name ?? hostname().split('.')[0]! },
    db_service: resolveDatabaseFiles(cfg.db_service, source),
  };
}

export const SERVICE_ROLES = ['auth', 'proxy', 'node', 'db', 'app'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

export interface ConfigOverrides {
  dataDir?: string;
  /** --roles: the services this process runs; replaces the config's `enabled` switches. */
  roles?: string;
  /** --auth-server, repeatable or comma-separated: replaces the config's auth_server(s). */
  authServer?: string;
  token?: string;
  caPin?: string;
  /** --diag-addr HOST:PORT: the diagnostics listener (config: diagnostics.listen_addr). */
  diagAddr?: string;
}

/** Parses --roles=auth,proxy,node,db,app; a clear error names the unknown role. */
export function parseRoles(text: string): Set<ServiceRole> {
  const roles = new Set<ServiceRole>();
  for (const r of text.split(',').map((s) => s.trim())) {
    if (!(SERVICE_ROLES as readonly string[]).includes(r)) {
      throw new GatehouseError(
        ErrorCode.CONFIG,
        `--roles: unknown role ${JSON.stringify(r)}; expected a comma-separated list of ${SERVICE_ROLES.join(', ')}`,
      );
    }
    roles.add(r as ServiceRole);
  }
  return roles;
}

/** The join token: flag, then $GATEHOUSE_JOIN_TOKEN, then the config's join_token or join_token_file. */
function resolveJoinToken(cfg: DaemonConfig, flag: string | undefined): string | undefined {
  const fromEnv = process.env.GATEHOUSE_JOIN_TOKEN;
  if (flag) return flag;
  if (fromEnv) return fromEnv;
  if (cfg.join_token) return cfg.join_token;
  if (!cfg.join_token_file) return undefined;
  try {
    return readFileSync(cfg.join_token_file, 'utf8').trim();
  } catch (e) {
    throw new GatehouseError(
      ErrorCode.CONFIG,
      `cannot read join_token_file ${cfg.join_token_file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

function applyOverrides(cfg: DaemonConfig, overrides: ConfigOverrides, source: string): void {
  if (overrides.dataDir) cfg.data_dir = overrides.dataDir;
  if (overrides.roles !== undefined) {
    const roles = parseRoles(overrides.roles);
    cfg.auth.enabled = roles.has('auth');
    cfg.proxy.enabled = roles.has('proxy');
    cfg.node.enabled = roles.has('node');
    cfg.db_service.enabled = roles.has('db');
    cfg.app_service.enabled = roles.has('app');
  }
  if (overrides.authServer) {
    const list = overrides.authServer.split(',').map((a) => a.trim());
    for (const a of list)
      if (!addr.safeParse(a).success)
        throw new GatehouseError(ErrorCode.CONFIG, `--auth-server: expected HOST:PORT, got "${a}"`);
    if (list.length > MAX_AUTH_SERVERS)
      throw new GatehouseError(ErrorCode.CONFIG, `--auth-server: at most ${MAX_AUTH_SERVERS} addresses`);
    cfg.auth_server = list[0];
    cfg.auth_servers = list.length > 1 ? list.slice(1) : undefined;
  }
  if (overrides.caPin) cfg.ca_pin = overrides.caPin;
  if (overrides.diagAddr) {
    if (!addr.safeParse(overrides.diagAddr).success)
      throw new GatehouseError(ErrorCode.CONFIG, `--diag-addr: expected HOST:PORT, got "${overrides.diagAddr}"`);
    cfg.diagnostics.listen_addr = overrides.diagAddr;
  }
  const token = resolveJoinToken(cfg, overrides.token);
  if (token) cfg.join_token = token;
  const services = [cfg.auth, cfg.proxy, cfg.node, cfg.db_service, cfg.app_service];
  if (!services.some((s) => s.enabled)) {
    throw new GatehouseError(
      ErrorCode.CONFIG,
      `${source}: no service to run (auth, proxy, node, db_service and app_service are all disabled)`,
    );
  }
  if (!cfg.auth.enabled && authServersOf(cfg).length === 0) {
    throw new GatehouseError(
      ErrorCode.CONFIG,
      `${source}: without auth in this process, proxy, node, db and app services need auth_server (or --auth-server HOST:PORT)`,
    );
  }
}

export function loadConfig(file: string | undefined, overrides: ConfigOverrides): DaemonConfig {
  let text = '';
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new GatehouseError(
        ErrorCode.CONFIG,
        `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  const cfg = parseConfig(text, file ?? 'config');
  applyOverrides(cfg, overrides, file ?? 'config');
  return cfg;
}

/** The auth addresses a service tries, in order: auth_server first, then auth_servers, no repeats. */
export function authServersOf(cfg: Pick<DaemonConfig, 'auth_server' | 'auth_servers'>): string[] {
  return [...new Set([...(cfg.auth_server ? [cfg.auth_server] : []), ...(cfg.auth_servers ?? [])])];
}
