// Turns an already-decoded value (from YAML, JSON, an API call or code) into a checked
// resource, or into issues that name the field and, when the caller can locate fields in the
// source text, the line. parse.ts supplies that locator; API callers have none.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { defaultIssueMessage } from './fields.ts';
import { unknownKindMessage, type KindDefinition, type KindRegistry, type Resource } from './registry.ts';

export interface ResourceIssue {
  code: ErrorCode;
  /** Full text, e.g. `role "dev": spec.alow: unknown field; allowed fields: ... (line 5)`. */
  message: string;
  /** Dotted path of the field (`spec.allow.logins[0]`), absent for whole-document problems. */
  field?: string;
  line?: number;
  /** 1-based position of the document in a multi-document input. */
  document?: number;
}

export type LocateField = (path: readonly PropertyKey[]) => number | undefined;

export interface CheckOptions {
  locate?: LocateField;
  document?: number;
}

export type CheckResult<R> = { ok: true; resource: R } | { ok: false; issues: ResourceIssue[] };

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

function withLine(text: string, line: number | undefined): string {
  return line === undefined ? text : `${text} (line ${line})`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function subjectOf(kind: string, value: Record<string, unknown>): string {
  const meta = value['metadata'];
  const name = isPlainObject(meta) && typeof meta['name'] === 'string' ? meta['name'] : undefined;
  return name === undefined ? kind : `${kind} ${JSON.stringify(name)}`;
}

/**
 * `metadata.revision` is storage bookkeeping that `gatectl get` prints: accepted and dropped, so
 * printed resources can be fed back to `create -f`. Updates carry it outside the document.
 */
function withoutRevision(value: Record<string, unknown>): Record<string, unknown> {
  const meta = value['metadata'];
  if (!isPlainObject(meta) || typeof meta['revision'] !== 'number') return value;
  const { revision: _revision, ...rest } = meta;
  return { ...value, metadata: rest };
}

/** Checks a value against one kind's schema, including the kind/version gate. */
export function checkKind<R extends Resource>(
  definition: KindDefinition<R>,
  value: unknown,
  options: CheckOptions = {},
): CheckResult<R> {
  const { locate, document } = options;
  const issue = (code: ErrorCode, text: string, path: readonly PropertyKey[] | undefined): ResourceIssue => {
    const line = path ? locate?.(path) : locate?.([]);
    const out: ResourceIssue = { code, message: withLine(text, line) };
    if (path && path.length > 0) out.field = formatPath(path);
    if (line !== undefined) out.line = line;
    if (document !== undefined) out.document = document;
    return out;
  };

  if (!isPlainObject(value)) {
    return {
      ok: false,
      issues: [
        issue(
          ErrorCode.INVALID_RESOURCE,
          `expected a ${definition.kind} resource: a mapping with kind, version, metadata and spec`,
          undefined,
        ),
      ],
    };
  }
  const doc = withoutRevision(value);
  const subject = subjectOf(definition.kind, doc);
  const version = doc['version'];
  const supported = definition.versions.join(', ');
  if (version === undefined) {
    return {
      ok: false,
      issues: [
        issue(ErrorCode.INVALID_RESOURCE, `${subject}: version: required field is missing; supported: ${supported}`, [
          'version',
        ]),
      ],
    };
  }
  if (typeof version !== 'string' || !definition.versions.includes(version)) {
    const shown = typeof version === 'string' ? JSON.stringify(version) : String(version);
    return {
      ok: false,
      issues: [
        issue(
          ErrorCode.INVALID_RESOURCE,
          `${definition.kind} version ${shown} is not supported; supported: ${supported}`,
          ['version'],
        ),
      ],
    };
  }

  const parsed = definition.schema.safeParse(doc, { error: defaultIssueMessage });
  if (parsed.success) return { ok: true, resource: parsed.data };

  const issues: ResourceIssue[] = [];
  for (const zi of parsed.error.issues) {
    // One issue per unknown key, so each gets its own field name and line.
    const paths = zi.code === 'unrecognized_keys' ? zi.keys.map((k) => [...zi.path, k]) : [zi.path];
    for (const path of paths) {
      issues.push(
        issue(ErrorCode.INVALID_RESOURCE, `${subject}: ${formatPath(path) || '(resource)'}: ${zi.message}`, path),
      );
    }
  }
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { ok: false, issues };
}

/** Checks a value of any registered kind. */
export function checkResource(
  value: unknown,
  registry: KindRegistry,
  options: CheckOptions = {},
): CheckResult<Resource> {
  const { locate, document } = options;
  const fail = (code: ErrorCode, text: string, path: readonly PropertyKey[]): CheckResult<Resource> => {
    const line = locate?.(path);
    const out: ResourceIssue = { code, message: withLine(text, line) };
    if (path.length > 0) out.field = formatPath(path);
    if (line !== undefined) out.line = line;
    if (document !== undefined) out.document = document;
    return { ok: false, issues: [out] };
  };
  const known = registry.kinds();
  if (!isPlainObject(value)) {
    return fail(
      ErrorCode.INVALID_RESOURCE,
      `expected a resource: a mapping with kind, version, metadata and spec (known kinds: ${known.join(', ')})`,
      [],
    );
  }
  const kind = value['kind'];
  if (kind === undefined)
    return fail(ErrorCode.INVALID_RESOURCE, `missing field "kind"; known kinds: ${known.join(', ')}`, []);
  if (typeof kind !== 'string')
    return fail(ErrorCode.INVALID_RESOURCE, `kind: expected a string; known kinds: ${known.join(', ')}`, ['kind']);
  const definition = registry.get(kind);
  if (!definition) return fail(ErrorCode.UNKNOWN_KIND, unknownKindMessage(kind, known), ['kind']);
  return checkKind(definition, value, options);
}

/** One error for a list of issues: every issue on its own line; code and details from the first. */
export function issuesError(issues: readonly ResourceIssue[]): GatehouseError {
  const first = issues[0];
  if (!first) return new GatehouseError(ErrorCode.INTERNAL, 'validation failed without issues');
  return new GatehouseError(first.code, issues.map((i) => i.message).join('\n'), {
    line: first.line,
    field: first.field,
    document: first.document,
    issues: issues.map((i) => ({ ...i })),
  });
}

/** Validates a decoded value (e.g. from an API call); throws INVALID_RESOURCE / UNKNOWN_KIND. */
export function validateResource(value: unknown, registry: KindRegistry): Resource {
  const result = checkResource(value, registry);
  if (!result.ok) throw issuesError(result.issues);
  return result.resource;
}

/** Validates a value that must be of one kind (e.g. a role built in code). */
export function validateKind<R extends Resource>(definition: KindDefinition<R>, value: unknown): R {
  const result = checkKind(definition, value);
  if (!result.ok) throw issuesError(result.issues);
  return result.resource;
}
