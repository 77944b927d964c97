// Building blocks for kind schemas. Every schema built from these yields messages written for
// people editing YAML ("expected a list of strings"), not zod's defaults, and strict objects
// that list the allowed fields when someone misspells one.
import { z } from 'zod';

type IssueLike = {
  code?: string;
  input?: unknown;
  expected?: string;
  values?: readonly unknown[];
  origin?: string;
  minimum?: unknown;
  maximum?: unknown;
};

/** Error option that replaces wrong-type messages; "missing", "empty" etc. keep the default map's. */
export function wrongType(message: string) {
  return { error: (iss: IssueLike) => (iss.code === 'invalid_type' && iss.input !== undefined ? message : undefined) };
}

/** A strict object whose unknown-field message names the fields that are allowed. */
export function strictFields<S extends z.ZodRawShape>(shape: S) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss: IssueLike) => {
      if (iss.code === 'unrecognized_keys') return `unknown field; allowed fields: ${allowed}`;
      if (iss.code !== 'invalid_type' || iss.input === undefined) return undefined;
      return `expected a mapping with fields: ${allowed}`;
    },
  });
}

export function stringList(message = 'expected a list of strings') {
  return z.array(z.string(wrongType('expected a string')), wrongType(message));
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const NAME_RULE = 'use 1-63 lowercase letters, digits, "-", "." or "_", starting with a letter or digit';

export function nameProblem(name: string): string | undefined {
  if (NAME_PATTERN.test(name)) return undefined;
  return `"${name}" is not a valid name: ${NAME_RULE}`;
}

/** Resource names. A leading letter/digit keeps names from looking like CLI flags or paths. */
export const resourceName = z.string(wrongType('expected a string')).superRefine((name, ctx) => {
  const problem = nameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: name });
});

// Label keys may carry a prefix like `gatehouse.dev/origin`. The leading letter/digit also keeps
// `__proto__` out of records built from user input.
const LABEL_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/:-]{0,62}$/;

export function labelKeyProblem(key: string): string | undefined {
  if (LABEL_KEY_PATTERN.test(key)) return undefined;
  return `"${key}" is not a valid label key: use 1-63 letters, digits, "-", ".", "_", "/" or ":", starting with a letter or digit`;
}

// Keys are checked in a refinement rather than a key schema so the message names the key
// itself (zod reports key-schema failures as a generic "invalid key").
// zod builds records by assignment, so an own "__proto__" key from YAML/JSON would silently
// become the result's prototype instead of an entry. Reject it before the record sees it.
export function guardedRecord<T extends z.ZodType>(record: T) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
        ctx.addIssue({
          code: 'custom',
          path: ['__proto__'],
          message: '"__proto__" is not allowed as a key',
          input: value,
        });
      }
    })
    .pipe(record);
}

/** Longest metadata description (characters): a sentence or two for `gatectl get`, not a document. */
export const DESCRIPTION_MAX_CHARS = 1024;
/** Longest label value (characters); keys are bounded by LABEL_KEY_PATTERN (63). */
export const LABEL_VALUE_MAX_CHARS = 253;
/** Labels on one resource. */
export const LABELS_MAX_ENTRIES = 64;

export const description = z
  .string(wrongType('expected a string'))
  .max(DESCRIPTION_MAX_CHARS, { error: `must be at most ${DESCRIPTION_MAX_CHARS} characters` });

export const labels = guardedRecord(
  z
    .record(
      z.string(),
      z
        .string(wrongType('expected a string'))
        .max(LABEL_VALUE_MAX_CHARS, { error: `must be at most ${LABEL_VALUE_MAX_CHARS} characters` }),
      wrongType('expected a mapping of label names to strings'),
    )
    .superRefine((record, ctx) => {
      const keys = Object.keys(record);
      if (keys.length > LABELS_MAX_ENTRIES) {
        ctx.addIssue({ code: 'custom', message: `at most ${LABELS_MAX_ENTRIES} labels allowed`, input: record });
      }
      for (const key of keys) {
        const problem = labelKeyProblem(key);
        if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem, input: key });
      }
    }),
);

function describeInput(input: unknown): string {
  if (input === null) return 'nothing (null)';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return `the string ${JSON.stringify(input)}`;
  return `${typeof input} ${String(input)}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** Per-parse error map: the fallback wording when a schema gave no message of its own. */
export function defaultIssueMessage(iss: IssueLike): string {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'required field is missing';
      return `expected ${EXPECTED[iss.expected ?? ''] ?? iss.expected}, got ${describeInput(iss.input)}`;
    case 'unrecognized_keys':
      return 'unknown field';
    case 'invalid_value':
      return `expected one of: ${(iss.values ?? []).map((v) => String(v)).join(', ')}`;
    case 'too_small':
      return iss.origin === 'array' || iss.origin === 'string'
        ? 'must not be empty'
        : `must be at least ${String(iss.minimum)}`;
    case 'too_big':
      return `must be at most ${String(iss.maximum)}`;
    default:
      return 'invalid value';
  }
}
