// Text (YAML or JSON, one or many documents) → checked resources. The YAML node tree is kept
// next to the decoded value so every problem can point at the line the person has to edit.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type YAMLError } from 'yaml';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { KindRegistry, Resource } from './registry.ts';
import { checkResource, issuesError, type LocateField, type ResourceIssue } from './validate.ts';

export interface ParseOptions {
  /** Return [] for input without any resource instead of throwing INVALID_RESOURCE. */
  allowEmpty?: boolean;
}

// Enough for real resources; stops "billion laughs" alias bombs from expanding.
const MAX_ALIAS_COUNT = 100;

function lineOf(lines: LineCounter, offset: number | undefined): number | undefined {
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

/**
 * Finds the line for a field path. Map entries report the line of their key (where the field
 * name is written); a missing field reports its parent's line, the place to add it.
 */
function locator(root: unknown, lines: LineCounter): LocateField {
  return (path) => {
    let node: unknown = root;
    let line = lineOf(lines, (node as { range?: [number] } | null)?.range?.[0]);
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
        if (!pair) return line;
        line = lineOf(lines, (pair.key as { range?: [number] } | null)?.range?.[0]) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) return line;
        line = lineOf(lines, (item as { range?: [number] } | null)?.range?.[0]) ?? line;
        node = item;
      } else {
        return line;
      }
    }
    return line;
  };
}

function yamlError(error: YAMLError): GatehouseError {
  const pos = error.linePos?.[0];
  return new GatehouseError(ErrorCode.INVALID_RESOURCE, `invalid YAML: ${error.message.trimEnd()}`, {
    line: pos?.line,
    column: pos?.col,
  });
}

/**
 * Parses every resource in `text`: YAML documents separated by `---`, or JSON. A document
 * whose top level is a list (e.g. `gatectl get -o json` output) contributes each item. Empty
 * documents are skipped. Throws GatehouseError with INVALID_RESOURCE or UNKNOWN_KIND; the
 * message has one line per problem, `details` = { line, field, document, issues }.
 */
export function parseResources(text: string, registry: KindRegistry, options: ParseOptions = {}): Resource[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: true });
  if ('empty' in docs) {
    const first = docs.errors[0];
    if (first) throw yamlError(first);
  }
  for (const doc of docs) {
    const first = doc.errors[0];
    if (first) throw yamlError(first);
  }

  const resources: Resource[] = [];
  const issues: ResourceIssue[] = [];
  let position = 0;
  const check = (value: unknown, node: unknown) => {
    position += 1;
    const result = checkResource(value, registry, { locate: locator(node, lines), document: position });
    if (result.ok) resources.push(result.resource);
    else issues.push(...result.issues);
  };

  for (const doc of docs as Document.Parsed[]) {
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      // The yaml package throws a plain ReferenceError for alias bombs.
      const line = lineOf(lines, doc.contents.range[0]);
      throw new GatehouseError(
        ErrorCode.INVALID_RESOURCE,
        `invalid YAML: ${(e as Error).message} (document starting at line ${line})`,
        { line },
      );
    }
    if (value === null || value === undefined) continue;
    if (Array.isArray(value) && isSeq(doc.contents)) {
      value.forEach((item, i) => check(item, (doc.contents as { items: unknown[] }).items[i]));
    } else {
      check(value, doc.contents);
    }
  }

  if (issues.length > 0) throw issuesError(issues);
  if (resources.length === 0 && !options.allowEmpty) {
    throw new GatehouseError(ErrorCode.INVALID_RESOURCE, 'no resources found: the input is empty');
  }
  return resources;
}

/** Parses exactly one resource (e.g. `gatectl edit`); throws when there are none or several. */
export function parseResource(text: string, registry: KindRegistry): Resource {
  const resources = parseResources(text, registry);
  if (resources.length !== 1) {
    throw new GatehouseError(ErrorCode.INVALID_RESOURCE, `expected one resource, found ${resources.length}`, {
      count: resources.length,
    });
  }
  return resources[0]!;
}
