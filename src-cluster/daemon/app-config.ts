// The daemon config's `app_service` section (docs/app-access.md): whether this process runs an
// app service, where proxies reach it, and the apps it serves statically. Each app is checked by
// the kind "app" resource's own schema (resources/app.ts), so the config refuses exactly what
// `gatectl create` would, the error naming the config field (`app_service.apps.0.uri`) instead
// of surfacing later as a failed registration or connection.
import { z } from 'zod';
import { APP_KIND, appSchema, type AppResource } from '../resources/app.ts';
import { serviceListenerFields } from './service-config-fields.ts';

/** Default listener of the app service (the proxy has 3080, the db service 3081, the node 3022). */
export const DEFAULT_APP_SERVICE_ADDR = '127.0.0.1:3082';
/** As RegisterApps accepts at most 1000 per call; a config is far smaller in practice. */
const MAX_APPS = 1000;
/**
 * Connections from one address: every session through a proxy comes from that proxy's address
 * (a browser opens ~6 per gateway), so the cap is per proxy; as the db service's.
 */
export const DEFAULT_APP_MAX_CONNECTIONS_PER_PROXY = 1000;

/** Where each config field of an app lives in the resource. */
const METADATA_FIELDS = ['name', 'description', 'labels'] as const;
const SPEC_FIELDS = ['uri', 'public_addr', 'rewrite', 'insecure_skip_verify'] as const;

// The entry's own shape only fixes which fields exist; their values are checked by appSchema.
const AppEntryShape = z.strictObject(
  Object.fromEntries([...METADATA_FIELDS, ...SPEC_FIELDS].map((f) => [f, z.unknown().optional()])) as Record<
    (typeof METADATA_FIELDS)[number] | (typeof SPEC_FIELDS)[number],
    z.ZodOptional<z.ZodUnknown>
  >,
);

/** A configured app as the kind "app" resource it becomes (without the registration labels). */
export function configuredAppAsResource(entry: Record<string, unknown>): Record<string, unknown> {
  const pick = (fields: readonly string[]) =>
    Object.fromEntries(fields.filter((f) => entry[f] !== undefined).map((f) => [f, entry[f]]));
  return { kind: APP_KIND, version: 'v3', metadata: pick(METADATA_FIELDS), spec: pick(SPEC_FIELDS) };
}

const apps = z
  .array(AppEntryShape)
  .max(MAX_APPS)
  .default([])
  .transform((entries, ctx) => {
    const seen = new Set<string>();
    const out: AppResource[] = [];
    entries.forEach((entry, i) => {
      const r = appSchema.safeParse(configuredAppAsResource(entry));
      if (!r.success) {
        // metadata.name → name, spec.rewrite.headers.0.name → rewrite.headers.0.name; the code is
        // kept, so that an unknown field is still reported as one (config.ts names the key), and
        // reported first: a misspelt field explains the "missing" one it was meant to be.
        const issues = [...r.error.issues].sort(
          (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
        );
        for (const issue of issues) {
          ctx.addIssue({ ...issue, path: [i, ...issue.path.slice(1)] } as Parameters<typeof ctx.addIssue>[0]);
        }
        return;
      }
      const name = r.data.metadata.name;
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${name}" is listed twice` });
      seen.add(name);
      out.push(r.data);
    });
    return out;
  });

export const AppServiceConfigSchema = z
  .strictObject({
    ...serviceListenerFields(DEFAULT_APP_SERVICE_ADDR, DEFAULT_APP_MAX_CONNECTIONS_PER_PROXY),
    /** Each entry: {name, description?, labels?, uri, public_addr?, rewrite?, insecure_skip_verify?}. */
    apps,
  })
  .prefault({});

export type AppServiceConfig = z.infer<typeof AppServiceConfigSchema>;
