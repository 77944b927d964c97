// Resources a service registers from its static configuration (RegisterDatabases, RegisterApps):
// the service owns them as a set and replaces that set as a whole, in one transaction, labelled
// with their origin and the service's name. Shared by the database and app catalogs so both kinds
// keep the same rules: names held by an admin or another service are refused, not taken over;
// an unchanged registration writes nothing (no watch events for every restart of the service).
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Logger } from '../log/logger.ts';
import type { KindDefinition, Resource as KindResource } from '../resources/registry.ts';
import { checkKind, issuesError } from '../resources/validate.ts';
import type { Backend, BatchOp } from '../storage/backend.ts';
import type { Resource, ResourceStore } from '../storage/resources.ts';

/** What differs between the kinds a service registers. */
export interface RegisteredKind<R extends KindResource> {
  definition: KindDefinition<R>;
  /** How messages name one resource ("database", "app"). */
  noun: string;
  /** How messages name the registering service ("db service", "app service"). */
  serviceNoun: string;
  originLabel: string;
  originValue: string;
  serviceLabel: string;
  /** Resources one service may register in one call. */
  max: number;
}

function bad(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.BAD_REQUEST, message);
}

/** The same document, revision aside. */
function sameDocument(a: Resource<unknown>, b: unknown): boolean {
  const { revision: _revision, ...meta } = a.metadata;
  return JSON.stringify({ ...a, metadata: meta }) === JSON.stringify(b);
}

function parseOne<R extends KindResource>(kind: RegisteredKind<R>, json: string, index: number, service: string): R {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw bad(`${kind.noun} ${index + 1}: not valid JSON: ${(e as Error).message}`);
  }
  const checked = checkKind(kind.definition, value);
  if (!checked.ok) {
    const err = issuesError(checked.issues);
    throw new GatehouseError(err.code, `${kind.noun} ${index + 1}: ${err.message}`, err.details);
  }
  const resource = checked.resource;
  // The origin labels are the cluster's to set: whatever the service sent, they name it.
  const labels = { ...resource.metadata.labels, [kind.originLabel]: kind.originValue, [kind.serviceLabel]: service };
  // Only labels changed, so the result is still the kind's R.
  return { ...resource, metadata: { ...resource.metadata, labels } } as R;
}

/**
 * Replaces what `service` registered before with `docs` (JSON of the kind each), in one
 * transaction. Returns how many were written and deleted.
 */
export async function registerServiceResources<S, R extends KindResource>(
  backend: Backend,
  store: ResourceStore<S>,
  kind: RegisteredKind<R>,
  service: string,
  docs: readonly string[],
  log: Logger,
): Promise<{ written: number; deleted: number }> {
  if (docs.length > kind.max) {
    throw new GatehouseError(
      ErrorCode.REQUEST_TOO_LARGE,
      `at most ${kind.max} ${kind.noun}s per registration, got ${docs.length}`,
    );
  }
  const wanted = new Map<string, R>();
  for (const [i, json] of docs.entries()) {
    const resource = parseOne(kind, json, i, service);
    if (wanted.has(resource.metadata.name)) throw bad(`${kind.noun} "${resource.metadata.name}" is listed twice`);
    wanted.set(resource.metadata.name, resource);
  }
  const current = new Map((await store.list()).map((r) => [r.metadata.name, r]));
  const ours = (r: Resource<S>) =>
    r.metadata.labels?.[kind.serviceLabel] === service && r.metadata.labels?.[kind.originLabel] === kind.originValue;
  const ops: BatchOp[] = [];
  for (const [name, resource] of wanted) {
    const existing = current.get(name);
    if (existing && !ours(existing)) {
      const owner = existing.metadata.labels?.[kind.serviceLabel];
      throw new GatehouseError(
        ErrorCode.ALREADY_EXISTS,
        `${kind.noun} "${name}" already exists (${owner ? `registered by ${kind.serviceNoun} "${owner}"` : 'created by an admin'}); rename it in this ${kind.serviceNoun}'s configuration`,
      );
    }
    if (existing && sameDocument(existing, resource)) continue;
    // Conditional writes: a resource created or changed since the list above (by an admin, by a
    // concurrent registration) fails the batch instead of being overwritten; the service retries.
    ops.push(
      existing
        ? store.updateWrite({
            ...(resource as never as Resource<S>),
            metadata: { ...resource.metadata, revision: existing.metadata.revision },
          })
        : store.createWrite(resource as never),
    );
  }
  let deleted = 0;
  for (const [name, existing] of current) {
    if (ours(existing) && !wanted.has(name)) {
      ops.push({ type: 'delete', key: store.keyFor(name) });
      deleted++;
    }
  }
  if (ops.length > 0) await backend.batch(ops);
  log.info(`${kind.noun}s registered`, { service, registered: wanted.size, written: ops.length - deleted, deleted });
  return { written: ops.length - deleted, deleted };
}
