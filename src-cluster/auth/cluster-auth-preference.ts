// The cluster auth preference as the running services see it. Two sources can own it: the config
// file (origin `config`: re-seeded at every start, so editing the file and restarting applies)
// and admins (origin `dynamic`: the first API write takes over and the file no longer applies —
// a warning at start says so when the two disagree). Deleting it hands it back to the file.
// Readers (login, ping, enrollment) call current(): a cached copy kept fresh by our own writes
// and the store's watch, which also sees writes from other processes sharing the database.
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type { KindHooks } from '../resources/kind-hooks.ts';
import type { Logger } from '../log/logger.ts';
import {
  CAP_KIND,
  CAP_NAME,
  clusterAuthPreferenceKind,
  newClusterAuthPreference,
  ORIGIN_CONFIG,
  ORIGIN_DYNAMIC,
  ORIGIN_LABEL,
  originOf,
  type ClusterAuthPreferenceResource,
  type ClusterAuthPreferenceSpec,
  type SecondFactor,
} from '../resources/cluster-auth-preference.ts';
import { validateKind } from '../resources/validate.ts';
import type { Backend } from '../storage/backend.ts';
import { ResourceStore, type Resource as StoredResource } from '../storage/resources.ts';

/** What the config file says (auth.second_factor, auth.device_trust.ekcert_allowed_cas as PEM, .ekpub_allowed). */
export interface CapConfigValues {
  secondFactor: SecondFactor;
  ekCertAllowedCas: string[];
  /** Absent: the default (true). */
  ekpubAllowed?: boolean;
}

export type SeedDecision =
  { action: 'create' | 'reseed'; resource: ClusterAuthPreferenceResource } | { action: 'keep'; differences: string[] };

/** The preference the config file describes, marked as owned by it. */
export function preferenceFromConfig(config: CapConfigValues): ClusterAuthPreferenceResource {
  return newClusterAuthPreference({
    secondFactor: config.secondFactor,
    ekCertAllowedCas: config.ekCertAllowedCas,
    ...(config.ekpubAllowed !== undefined ? { ekpubAllowed: config.ekpubAllowed } : {}),
    origin: ORIGIN_CONFIG,
  });
}

const samePems = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((pem, i) => pem.trim() === b[i]!.trim());

/** Config-file fields whose value differs from the stored preference (names as in the config). */
export function configDifferences(stored: ClusterAuthPreferenceSpec, config: CapConfigValues): string[] {
  const out: string[] = [];
  if (stored.second_factor !== config.secondFactor) out.push('auth.second_factor');
  if (!samePems(stored.device_trust.ekcert_allowed_cas, config.ekCertAllowedCas))
    out.push('auth.device_trust.ekcert_allowed_cas');
  if (stored.device_trust.ekpub_allowed !== (config.ekpubAllowed ?? true)) out.push('auth.device_trust.ekpub_allowed');
  return out;
}

/**
 * What to do at start. Nothing stored: create from config. Stored with origin `config` (or no
 * origin at all, which only a pre-origin database could have): re-seed from the config, the
 * settings it does not name taking their defaults. Origin `dynamic`: keep, report differences.
 */
export function seedDecision(stored: ClusterAuthPreferenceResource | undefined, config: CapConfigValues): SeedDecision {
  const fromConfig = preferenceFromConfig(config);
  if (!stored) return { action: 'create', resource: fromConfig };
  if (originOf(stored) === ORIGIN_DYNAMIC)
    return { action: 'keep', differences: configDifferences(stored.spec, config) };
  return { action: 'reseed', resource: fromConfig };
}

export interface ClusterAuthPreferenceServiceDeps {
  backend: Backend;
  config: CapConfigValues;
  log: Logger;
}

export class ClusterAuthPreferenceService {
  readonly store: ResourceStore<ClusterAuthPreferenceSpec>;
  readonly #config: CapConfigValues;
  readonly #log: Logger;
  #current: ClusterAuthPreferenceResource;
  #watcher: { close(): void } | undefined;
  #revision = 0;
  #closed = false;

  constructor(deps: ClusterAuthPreferenceServiceDeps) {
    this.store = new ResourceStore<ClusterAuthPreferenceSpec>(deps.backend, {
      kind: CAP_KIND,
      collection: 'cluster_auth_preference',
      validate: (r) => validateKind(clusterAuthPreferenceKind, r) as never,
    });
    this.#config = deps.config;
    this.#log = deps.log;
    this.#current = preferenceFromConfig(deps.config);
  }

  /** Seeds from the config as described above, then follows the store. */
  async start(): Promise<void> {
    const stored = await this.#read();
    const decision = seedDecision(stored, this.#config);
    if (decision.action === 'keep') {
      this.#accept(await this.store.find(CAP_NAME));
      if (decision.differences.length > 0) {
        this.#log.warn(
          'the cluster auth preference was changed through the API; these config file settings do not apply ' +
            '(edit it with "gatectl edit cluster_auth_preference", or delete it to return to the config file)',
          { fields: decision.differences },
        );
      }
    } else {
      // create() finds one when another starter won the race or the stored one was unreadable;
      // both are replaced by the config's (the same values in the first case).
      const saved = await (
        decision.action === 'create'
          ? this.store.create(decision.resource as StoredResource<ClusterAuthPreferenceSpec>)
          : this.store.upsert(decision.resource as StoredResource<ClusterAuthPreferenceSpec>)
      ).catch(async (e: unknown) => {
        if (isGatehouseError(e) && e.code === ErrorCode.ALREADY_EXISTS)
          return this.store.upsert(decision.resource as StoredResource<ClusterAuthPreferenceSpec>);
        throw e;
      });
      this.#accept(saved);
      this.#log.info(
        decision.action === 'create'
          ? 'cluster auth preference created from the config file'
          : 'cluster auth preference re-read from the config file',
        {},
      );
    }
    this.#follow();
  }

  /** The preference in force now. Cheap: no storage access. */
  current(): ClusterAuthPreferenceResource {
    return this.#current;
  }

  secondFactor(): SecondFactor {
    return this.#current.spec.second_factor;
  }

  ekCertAllowedCas(): string[] {
    return [...this.#current.spec.device_trust.ekcert_allowed_cas];
  }

  ekpubAllowed(): boolean {
    return this.#current.spec.device_trust.ekpub_allowed;
  }

  /**
   * An admin write: the API owns it from now on. With a revision it is a compare-and-swap (edit),
   * without one it replaces whatever is stored (create -f: the kind is a singleton).
   */
  async write(resource: StoredResource): Promise<StoredResource> {
    const labels = { ...resource.metadata.labels, [ORIGIN_LABEL]: ORIGIN_DYNAMIC };
    const next = {
      ...resource,
      metadata: { ...resource.metadata, labels },
    } as StoredResource<ClusterAuthPreferenceSpec>;
    const saved =
      typeof next.metadata.revision === 'number' ? await this.store.update(next) : await this.store.upsert(next);
    this.#accept(saved);
    return saved;
  }

  /** Back to the config file's values (what deleting the resource means). */
  async resetToConfig(): Promise<StoredResource> {
    const saved = await this.store.upsert(
      preferenceFromConfig(this.#config) as StoredResource<ClusterAuthPreferenceSpec>,
    );
    this.#accept(saved);
    this.#log.info('cluster auth preference reset to the config file', {});
    return saved;
  }

  /** ResourceAdmin hooks: create and update are admin writes; delete resets to the config file. */
  resourceHooks(): KindHooks {
    return {
      create: (r) => this.write(this.#checkedName(r)),
      update: (r) => this.write(this.#checkedName(r)),
      afterDelete: async () => {
        await this.resetToConfig();
      },
    };
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
  }

  #checkedName(r: StoredResource): StoredResource {
    // The schema already refuses other names; this guards callers that skip the registry.
    if (r.metadata.name !== CAP_NAME) {
      throw new GatehouseError(ErrorCode.INVALID_RESOURCE, `${CAP_KIND} is a singleton named "${CAP_NAME}"`);
    }
    return r;
  }

  async #read(): Promise<ClusterAuthPreferenceResource | undefined> {
    const found = await this.store.find(CAP_NAME);
    if (!found) return undefined;
    const { revision: _revision, ...metadata } = found.metadata;
    try {
      return validateKind(clusterAuthPreferenceKind, { ...found, metadata });
    } catch (e) {
      // A stored document no schema accepts cannot be trusted in part: treat it as absent so the
      // config file takes over again, and say so.
      this.#log.error('stored cluster auth preference is invalid; using the config file', {
        error: (e as Error).message,
      });
      return undefined;
    }
  }

  /**
   * Takes a newer stored state (undefined = deleted: the config file applies). Our own writes
   * land here before the watch reports them, so an older event must not undo a newer write.
   */
  #accept(resource: StoredResource | undefined, revision = resource?.metadata.revision ?? 0): void {
    if (revision < this.#revision) return;
    this.#revision = revision;
    if (!resource) {
      this.#current = preferenceFromConfig(this.#config);
      return;
    }
    try {
      const { revision: _revision, ...metadata } = resource.metadata;
      this.#current = validateKind(clusterAuthPreferenceKind, { ...resource, metadata });
    } catch (e) {
      this.#log.error('ignoring an invalid cluster auth preference from storage', { error: (e as Error).message });
    }
  }

  /** Keeps #current in step with the store, including writes by other processes. */
  #follow(): void {
    const run = async () => {
      while (!this.#closed) {
        const watcher = this.store.watch();
        this.#watcher = watcher;
        try {
          for await (const event of watcher) {
            if (event.type === 'init') {
              const found = await this.store.find(CAP_NAME);
              if (found) this.#accept(found);
            } else if (event.type === 'put') this.#accept(event.resource);
            else this.#accept(undefined, event.revision);
          }
          return; // closed by us or by the backend shutting down
        } catch (e) {
          // Fell behind: re-create the watcher; its init re-reads the stored value.
          this.#log.warn('cluster auth preference watch restarted', { error: (e as Error).message });
          await new Promise((resolve) => setTimeout(resolve, 200).unref());
        }
      }
    };
    void run().catch((e: unknown) =>
      this.#log.error('cluster auth preference watch failed', { error: (e as Error).message }),
    );
  }
}
