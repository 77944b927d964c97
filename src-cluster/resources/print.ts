// Resources → text for people and scripts: YAML (what `gatectl get`/`edit` show and read back),
// JSON (for scripts; parseResources reads it back too) and aligned tables.
import { stringify } from 'yaml';
import type { KindRegistry, Resource } from './registry.ts';

const TOP_ORDER = ['kind', 'version', 'metadata', 'spec'];
const METADATA_ORDER = ['name', 'description', 'labels'];

function ordered(value: Record<string, unknown>, first: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of first) if (value[key] !== undefined) out[key] = value[key];
  for (const [key, v] of Object.entries(value)) if (!(key in out) && v !== undefined) out[key] = v;
  return out;
}

/**
 * A copy with a stable field order: kind, version, metadata (name, description, labels), spec.
 * Inside spec the resource's own order is kept; parsed resources follow their schema's order.
 */
export function orderedResource(resource: Resource): Record<string, unknown> {
  const top = resource as unknown as Record<string, unknown>;
  const metadata = ordered(resource.metadata as unknown as Record<string, unknown>, METADATA_ORDER);
  return ordered({ ...top, metadata }, TOP_ORDER);
}

function list(resources: Resource | readonly Resource[]): readonly Resource[] {
  return Array.isArray(resources) ? resources : [resources as Resource];
}

/** YAML; several resources become documents separated by `---`. */
export function toYaml(resources: Resource | readonly Resource[]): string {
  return list(resources)
    .map((r) =>
      // No anchors/aliases even when objects repeat, and no line folding: output is meant to be
      // read and edited by people.
      stringify(orderedResource(r), { lineWidth: 0, aliasDuplicateObjects: false }),
    )
    .join('---\n');
}

/** JSON: one object for one resource, an array for a list (even of one). */
export function toJson(resources: Resource | readonly Resource[], options: { pretty?: boolean } = {}): string {
  const value = Array.isArray(resources) ? resources.map(orderedResource) : orderedResource(resources as Resource);
  return JSON.stringify(value, null, options.pretty === false ? undefined : 2);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * Aligned table(s): NAME plus the kind's columns. Mixed kinds get one table per kind, each
 * under a `<kind>:` heading. Returns '' for no resources so the caller can word that case.
 */
export function toText(resources: readonly Resource[], registry: KindRegistry): string {
  const groups = new Map<string, Resource[]>();
  for (const r of resources) groups.set(r.kind, [...(groups.get(r.kind) ?? []), r]);
  const parts: string[] = [];
  for (const [kind, members] of groups) {
    const columns = registry.get(kind)?.columns ?? [
      { header: 'DESCRIPTION', value: (r: Resource) => r.metadata.description ?? '' },
    ];
    const rows = [
      ['NAME', ...columns.map((c) => c.header)],
      ...members.map((r) => [r.metadata.name, ...columns.map((c) => c.value(r).replace(/\s+/g, ' '))]),
    ];
    parts.push((groups.size > 1 ? `${kind}:\n` : '') + table(rows));
  }
  return parts.length === 0 ? '' : `${parts.join('\n\n')}\n`;
}
