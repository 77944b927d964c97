// The set of resource kinds the cluster understands. A registry is an ordinary object that
// callers create and pass around, so tests and future services can build their own (e.g. a
// registry with `device` and `lock` added) without touching shared state.
import type { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

export interface ResourceMetadata {
  name: string;
  description?: string;
  labels?: Record<string, string>;
}

/** The common shape of every resource; each kind narrows `kind`, `version` and `spec`. */
export interface Resource<Kind extends string = string, Spec = unknown> {
  kind: Kind;
  version: string;
  metadata: ResourceMetadata;
  spec: Spec;
}

/** One column of `toText` output (e.g. `gatectl get roles`). */
export interface TextColumn<R extends Resource = Resource> {
  header: string;
  value: (resource: R) => string;
}

export interface KindDefinition<R extends Resource = Resource> {
  /** Canonical name as written in `kind:` (lowercase, e.g. `role`). */
  kind: string;
  /** Supported versions, newest last; the schema must accept every one of them. */
  versions: readonly string[];
  /** Validates the whole resource (kind, version, metadata, spec). Runs after the registry has
   *  checked kind and version, so its messages only concern the fields. Output key order is the
   *  order printed by toYaml, so declare fields in the order people should read them. */
  schema: z.ZodType<R>;
  /** One line for help texts. */
  description?: string;
  /** Other names accepted by `find` (e.g. `roles` for `gatectl get roles`); never in YAML. */
  aliases?: readonly string[];
  /** Columns for text output; NAME is always first and added automatically. */
  columns?: readonly TextColumn<R>[];
  /** The one name a singleton kind (one per cluster) may have: commands need no NAME, create replaces. */
  singleton?: string;
}

export interface KindRegistry {
  /** Adds a kind; throws if the kind or one of its aliases is already taken. */
  registerKind<R extends Resource>(definition: KindDefinition<R>): void;
  /** Looks up by canonical kind only (what YAML must say). */
  get(kind: string): KindDefinition | undefined;
  /** Looks up by canonical kind or alias (what a CLI user may type). */
  find(kindOrAlias: string): KindDefinition | undefined;
  /** Like find, but throws UNKNOWN_KIND listing the known kinds. */
  require(kindOrAlias: string): KindDefinition;
  /** Canonical kind names, sorted. */
  kinds(): string[];
}

export function unknownKindMessage(kind: string, known: readonly string[]): string {
  return `unknown kind "${kind}"; known kinds: ${known.join(', ')}`;
}

export function createRegistry(): KindRegistry {
  const byKind = new Map<string, KindDefinition>();
  const byAlias = new Map<string, KindDefinition>();

  const registry: KindRegistry = {
    registerKind<R extends Resource>(definition: KindDefinition<R>): void {
      if (!/^[a-z][a-z0-9_]*$/.test(definition.kind)) {
        throw new GatehouseError(
          ErrorCode.INTERNAL,
          `kind name "${definition.kind}" must be lowercase letters, digits and "_"`,
        );
      }
      if (definition.versions.length === 0) {
        throw new GatehouseError(ErrorCode.INTERNAL, `kind "${definition.kind}" has no versions`);
      }
      for (const name of [definition.kind, ...(definition.aliases ?? [])]) {
        if (byKind.has(name) || byAlias.has(name)) {
          throw new GatehouseError(ErrorCode.INTERNAL, `kind name "${name}" is already registered`);
        }
      }
      // Stored widened: the registry hands resources to the schema that made them, so the
      // per-kind type is restored at the use site (see isRole / isUser guards).
      const stored = definition as unknown as KindDefinition;
      byKind.set(definition.kind, stored);
      for (const alias of definition.aliases ?? []) byAlias.set(alias, stored);
    },
    get: (kind) => byKind.get(kind),
    find: (name) => byKind.get(name) ?? byAlias.get(name),
    require(name) {
      const found = registry.find(name);
      if (!found) {
        throw new GatehouseError(ErrorCode.UNKNOWN_KIND, unknownKindMessage(name, registry.kinds()), { kind: name });
      }
      return found;
    },
    kinds: () => [...byKind.keys()].sort(),
  };
  return registry;
}
