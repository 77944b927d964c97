// Versioned records on top of any Backend: `{kind, version, metadata, spec}` documents stored
// as JSON under `/<collection>/<name>`. The item revision doubles as the resource revision,
// which is what makes read-modify-write safe: update() only succeeds if nobody wrote since.
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type { Backend, BatchOp, Item, Watcher } from './backend.ts';

export interface ResourceMetadata {
  name: string;
  /** Set by the store on every read and write; update() requires the one you read. */
  revision?: number;
  labels?: Record<string, string>;
  description?: string;
  /** RFC 3339 time after which the resource disappears on its own. */
  expires?: string;
  [extra: string]: unknown;
}

export interface Resource<Spec = unknown> {
  kind: string;
  version: string;
  metadata: ResourceMetadata;
  spec: Spec;
}

export interface ResourceStoreOptions<Spec> {
  kind: string;
  /** Key segment, `/<collection>/<name>`; defaults to the kind plus "s". */
  collection?: string;
  /** Checks (and may normalise) a resource before it is written; throw INVALID_RESOURCE. */
  validate?: (resource: Resource<unknown>) => Resource<Spec>;
}

export type ResourceEvent<Spec> =
  | { type: 'init'; revision: number }
  | { type: 'put'; resource: Resource<Spec> }
  | { type: 'delete'; name: string; revision: number };

export interface ResourceWatcher<Spec> extends AsyncIterable<ResourceEvent<Spec>> {
  readonly closed: boolean;
  close(): void;
}

const SEGMENT = /^[a-z][a-z0-9_-]*$/;
// eslint-disable-next-line no-control-regex
const BAD_NAME_CHARS = /[/\u0000-\u001f\u007f]/;
const MAX_NAME_LENGTH = 253;

function invalid(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.INVALID_RESOURCE, message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const METADATA_OPEN = '"metadata":{"';

/**
 * The stored document with `"revision":N` as the first member of its metadata: what #decode
 * followed by JSON.stringify gives, in another member order. Undefined unless `"metadata":{"`
 * is certainly the top-level member: no `{` or `[` before it (the document starts
 * `{"kind":"…","version":"…",`), and in JSON text a quote inside a string is escaped, so the
 * needle cannot match inside a string value. #encode never stores a revision in metadata.
 */
function withRevision(item: Item): string | undefined {
  const text = item.value;
  const at = text.indexOf(METADATA_OPEN);
  if (at < 0 || text[0] !== '{' || /[{[]/.test(text.slice(1, at))) return undefined;
  const open = at + METADATA_OPEN.length - 1;
  return `${text.slice(0, open)}"revision":${item.revision},${text.slice(open)}`;
}

export class ResourceStore<Spec = unknown> {
  readonly kind: string;
  /** Key prefix of this kind, with the trailing slash, e.g. `/roles/`. */
  readonly prefix: string;
  readonly #backend: Backend;
  readonly #validate: ((resource: Resource<unknown>) => Resource<Spec>) | undefined;

  constructor(backend: Backend, options: ResourceStoreOptions<Spec>) {
    const collection = options.collection ?? `${options.kind}s`;
    if (!SEGMENT.test(options.kind) || !SEGMENT.test(collection)) {
      throw new GatehouseError(ErrorCode.INTERNAL, `bad resource kind/collection: ${options.kind}/${collection}`);
    }
    this.kind = options.kind;
    this.prefix = `/${collection}/`;
    this.#backend = backend;
    this.#validate = options.validate;
  }

  keyFor(name: string): string {
    this.#checkName(name);
    return this.prefix + name;
  }

  /** NOT_FOUND when missing. */
  async get(name: string): Promise<Resource<Spec>> {
    const found = await this.find(name);
    if (!found) throw new GatehouseError(ErrorCode.NOT_FOUND, `${this.kind} "${name}" not found`);
    return found;
  }

  async find(name: string): Promise<Resource<Spec> | undefined> {
    const item = await this.#backend.get(this.keyFor(name));
    return item && this.#decode(item);
  }

  /** All resources of this kind sorted by name, optionally only those carrying every given label. */
  async list(options: { labels?: Record<string, string> } = {}): Promise<Resource<Spec>[]> {
    const items = await this.#backend.listPrefix(this.prefix);
    const wanted = Object.entries(options.labels ?? {});
    return items
      .map((item) => this.#decode(item))
      .filter((r) => wanted.every(([k, v]) => r.metadata.labels?.[k] === v));
  }

  /**
   * list() as JSON texts, for the API: each is the stored text with `metadata.revision` written
   * in, so a listing of 10,000 devices neither parses nor re-serialises them (that was 15-80 ms
   * of the server's CPU per listing here, bench/list-wire.ts; reading the rows is ~25 ms more).
   * Parses only a document it cannot splice.
   */
  async listJson(): Promise<string[]> {
    const items = await this.#backend.listPrefix(this.prefix);
    return items.map((item) => withRevision(item) ?? JSON.stringify(this.#decode(item)));
  }

  /**
   * ALREADY_EXISTS when the name is taken. `alongside` are writes that belong to the resource
   * (a user's credentials): they commit in the same transaction or not at all, so a crash can
   * never leave the resource without them.
   */
  async create(resource: Resource<Spec>, alongside: BatchOp[] = []): Promise<Resource<Spec>> {
    const input = this.#encode(resource);
    try {
      if (alongside.length === 0) return this.#decode(await this.#backend.create(input));
      const [item] = await this.#backend.batch([{ type: 'create', item: input }, ...alongside]);
      return this.#decode(item!);
    } catch (error) {
      const ours = !isGatehouseError(error) || error.details?.['op'] === undefined || error.details['op'] === 0;
      if (isGatehouseError(error) && error.code === ErrorCode.ALREADY_EXISTS && ours) {
        throw new GatehouseError(
          ErrorCode.ALREADY_EXISTS,
          `${this.kind} "${resource.metadata.name}" already exists; use update to change it`,
        );
      }
      throw error;
    }
  }

  /**
   * Writes only if the stored resource is still at `metadata.revision` (from your read).
   * CONFLICT when someone changed it since, NOT_FOUND when it is gone.
   */
  async update(resource: Resource<Spec>): Promise<Resource<Spec>> {
    const revision = resource.metadata?.revision;
    if (typeof revision !== 'number') {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `updating ${this.kind} "${resource.metadata?.name}" needs metadata.revision from a previous read`,
      );
    }
    const input = this.#encode(resource);
    try {
      return this.#decode(await this.#backend.compareAndSwap({ key: input.key, revision }, input));
    } catch (error) {
      if (!isGatehouseError(error) || error.code !== ErrorCode.CONFLICT) throw error;
      const current = await this.#backend.get(input.key);
      const name = resource.metadata.name;
      if (!current)
        throw new GatehouseError(ErrorCode.NOT_FOUND, `${this.kind} "${name}" not found (deleted since you read it?)`);
      throw new GatehouseError(
        ErrorCode.CONFLICT,
        `${this.kind} "${name}" was changed by someone else since you read it ` +
          `(your revision ${revision}, now ${current.revision}); re-read it and retry`,
        { kind: this.kind, name, expected: revision, actual: current.revision },
      );
    }
  }

  /** The write create() makes, to commit in one Backend.batch with related records. */
  createWrite(resource: Resource<Spec>): BatchOp {
    return { type: 'create', item: this.#encode(resource) };
  }

  /** The write update() makes (compare-and-swap on metadata.revision), for a Backend.batch. */
  updateWrite(resource: Resource<Spec>): BatchOp {
    const revision = resource.metadata?.revision;
    if (typeof revision !== 'number') {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `updating ${this.kind} needs metadata.revision from a read`);
    }
    const item = this.#encode(resource);
    return { type: 'compareAndSwap', expected: { key: item.key, revision }, item };
  }

  /** A resource from an item a batch wrote. */
  fromItem(item: Item): Resource<Spec> {
    return this.#decode(item);
  }

  /** Creates or overwrites regardless of revision. */
  async upsert(resource: Resource<Spec>): Promise<Resource<Spec>> {
    return this.#decode(await this.#backend.put(this.#encode(resource)));
  }

  /** NOT_FOUND when missing. */
  async delete(name: string): Promise<void> {
    try {
      await this.#backend.delete(this.keyFor(name));
    } catch (error) {
      if (isGatehouseError(error) && error.code === ErrorCode.NOT_FOUND) {
        throw new GatehouseError(ErrorCode.NOT_FOUND, `${this.kind} "${name}" not found`);
      }
      throw error;
    }
  }

  /** Changes to resources of this kind, starting with `init` once live (see Backend.watch). */
  watch(): ResourceWatcher<Spec> {
    const inner: Watcher = this.#backend.watch([this.prefix]);
    const events = async function* (store: ResourceStore<Spec>): AsyncGenerator<ResourceEvent<Spec>> {
      for await (const event of inner) {
        if (event.type === 'init') yield event;
        else if (event.type === 'put') yield { type: 'put', resource: store.#decode(event.item) };
        else yield { type: 'delete', name: event.item.key.slice(store.prefix.length), revision: event.item.revision };
      }
    };
    const generator = events(this);
    return {
      get closed() {
        return inner.closed;
      },
      close: () => inner.close(),
      [Symbol.asyncIterator]: () => generator,
    };
  }

  #checkName(name: unknown): asserts name is string {
    if (
      typeof name !== 'string' ||
      name.length === 0 ||
      name.length > MAX_NAME_LENGTH ||
      name === '.' ||
      name === '..' ||
      BAD_NAME_CHARS.test(name)
    ) {
      throw invalid(
        `${this.kind} name ${JSON.stringify(name)} is invalid: use 1-${MAX_NAME_LENGTH} characters without "/" or control characters`,
      );
    }
  }

  #encode(resource: Resource<Spec>): { key: string; value: string; expires?: Date } {
    if (!isPlainObject(resource) || !isPlainObject(resource.metadata)) {
      throw invalid(`a ${this.kind} must be an object with metadata`);
    }
    if (resource.kind !== this.kind) {
      throw invalid(`expected kind "${this.kind}", got ${JSON.stringify(resource.kind)}`);
    }
    if (typeof resource.version !== 'string' || resource.version === '') {
      throw invalid(`${this.kind} "${String(resource.metadata.name)}" needs a version`);
    }
    if (resource.spec === undefined) throw invalid(`${this.kind} "${String(resource.metadata.name)}" needs a spec`);
    // Validators see the document as stored: the revision is bookkeeping, not content.
    const { revision: _rev, ...unversioned } = resource.metadata;
    const checked = this.#validate ? this.#validate({ ...resource, metadata: unversioned }) : resource;
    const key = this.keyFor(checked.metadata.name);
    // The revision lives in the item, not the document, so a stale copy can never be stored.
    const { revision: _revision, ...metadata } = checked.metadata;
    let expires: Date | undefined;
    if (metadata.expires !== undefined) {
      expires = new Date(metadata.expires);
      if (typeof metadata.expires !== 'string' || Number.isNaN(expires.getTime())) {
        throw invalid(`${this.kind} "${metadata.name}" has an invalid metadata.expires (want an RFC 3339 time)`);
      }
      metadata.expires = expires.toISOString();
    }
    let value: string;
    try {
      value = JSON.stringify({ ...checked, metadata });
    } catch (error) {
      throw invalid(`${this.kind} "${metadata.name}" is not JSON-serialisable: ${(error as Error).message}`);
    }
    return expires ? { key, value, expires } : { key, value };
  }

  #decode(item: Item): Resource<Spec> {
    let parsed: Resource<Spec>;
    try {
      parsed = JSON.parse(item.value) as Resource<Spec>;
    } catch {
      throw new GatehouseError(ErrorCode.STORAGE, `stored ${item.key} is not valid JSON`);
    }
    parsed.metadata = { ...parsed.metadata, revision: item.revision };
    return parsed;
  }
}
