// `kind: cluster_auth_preference` — how people authenticate to this cluster: the second factor
// and device trust (mode, auto-enroll, trusted EK certificate CAs). One per cluster, so the name
// is fixed. It is seeded from the config file and may then be taken over by admins through the
// API; the `gatehouse.dev/origin` label records which of the two owns it (see
// src-cluster/auth/cluster-auth-preference.ts).
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import {
  CLUSTER_DEVICE_TRUST_MODES,
  DEFAULT_CLUSTER_DEVICE_TRUST_MODE,
  type ClusterDeviceTrustMode,
} from './device-trust-modes.ts';
import { description, labels, strictFields, wrongType } from './fields.ts';
import type { KindDefinition } from './registry.ts';
import { validateKind } from './validate.ts';

export const CAP_KIND = 'cluster_auth_preference';
export const CAP_NAME = 'cluster-auth-preference';
export const AUTH_TYPES = ['local'] as const;
export const SECOND_FACTORS = ['off', 'otp'] as const;
export type SecondFactor = (typeof SECOND_FACTORS)[number];
/** What a service does when it loses its view of locks: refuse everything, or keep the last view. */
export const LOCKING_MODES = ['best_effort', 'strict'] as const;
export type LockingMode = (typeof LOCKING_MODES)[number];
export const DEFAULT_LOCKING_MODE: LockingMode = 'best_effort';

/** Who owns the stored preference: the config file (re-seeded at start) or admins (API writes). */
export const ORIGIN_LABEL = 'gatehouse.dev/origin';
export const ORIGIN_CONFIG = 'config';
export const ORIGIN_DYNAMIC = 'dynamic';

export interface DeviceTrustSpec {
  mode: ClusterDeviceTrustMode;
  auto_enroll: boolean;
  /** PEM, one certificate per entry. Empty: any TPM may enroll (attestation ekpub/ekcert). */
  ekcert_allowed_cas: string[];
  /**
   * Whether a TPM vouched for only by its EK public key (attestation ekpub, or an EK certificate
   * no allowed CA checked) may enroll and authenticate. Default true, as Teleport; a software TPM
   * passes that bar, so `false` is the safe choice unless devices are bound with --ek-key-hash.
   */
  ekpub_allowed: boolean;
}

export interface ClusterAuthPreferenceSpec {
  type: (typeof AUTH_TYPES)[number];
  second_factor: SecondFactor;
  device_trust: DeviceTrustSpec;
  locking_mode: LockingMode;
}

export interface ClusterAuthPreferenceResource {
  kind: typeof CAP_KIND;
  version: 'v2';
  metadata: { name: string; description?: string; labels?: Record<string, string> };
  spec: ClusterAuthPreferenceSpec;
}

function oneOf<T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: () => `expected one of: ${values.join(', ')}` });
}

const PEM_CERT = /^\s*-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\s*$/;

/** Why `pem` is not a single PEM X.509 certificate, or undefined when it is one. */
export function pemCertificateProblem(pem: string): string | undefined {
  if (!PEM_CERT.test(pem) || pem.split('-----BEGIN').length !== 2) {
    return 'expected one PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)';
  }
  try {
    new X509Certificate(pem);
    return undefined;
  } catch (e) {
    return `not a valid X.509 certificate: ${(e as Error).message}`;
  }
}

const pemCertificate = z.string(wrongType('expected a PEM certificate (a string)')).superRefine((pem, ctx) => {
  const problem = pemCertificateProblem(pem);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: pem });
});

const singletonName = z.string(wrongType('expected a string')).superRefine((name, ctx) => {
  if (name !== CAP_NAME) {
    ctx.addIssue({
      code: 'custom',
      message: `${CAP_KIND} is a singleton: metadata.name must be "${CAP_NAME}", not ${JSON.stringify(name)}`,
      input: name,
    });
  }
});

const deviceTrust = strictFields({
  mode: oneOf(CLUSTER_DEVICE_TRUST_MODES).default(DEFAULT_CLUSTER_DEVICE_TRUST_MODE),
  auto_enroll: z.boolean(wrongType('expected true or false')).default(false),
  ekcert_allowed_cas: z.array(pemCertificate, wrongType('expected a list of PEM certificates')).default([]),
  ekpub_allowed: z.boolean(wrongType('expected true or false')).default(true),
});

export const clusterAuthPreferenceSchema: z.ZodType<ClusterAuthPreferenceResource> = strictFields({
  kind: z.literal(CAP_KIND),
  version: z.literal('v2'),
  metadata: strictFields({
    name: singletonName,
    description: description.optional(),
    labels: labels.optional(),
  }),
  spec: strictFields({
    type: oneOf(AUTH_TYPES).default('local'),
    second_factor: oneOf(SECOND_FACTORS).default('off'),
    device_trust: deviceTrust.prefault({}),
    locking_mode: oneOf(LOCKING_MODES).default(DEFAULT_LOCKING_MODE),
  }).prefault({}),
});

export const clusterAuthPreferenceKind: KindDefinition<ClusterAuthPreferenceResource> = {
  kind: CAP_KIND,
  versions: ['v2'],
  schema: clusterAuthPreferenceSchema,
  description: 'how people authenticate: second factor and device trust (one per cluster)',
  aliases: ['cap', 'cluster_auth_preferences'],
  singleton: CAP_NAME,
  columns: [
    { header: 'SECOND FACTOR', value: (c) => c.spec.second_factor },
    { header: 'DEVICE TRUST', value: (c) => c.spec.device_trust.mode },
    { header: 'AUTO ENROLL', value: (c) => (c.spec.device_trust.auto_enroll ? 'yes' : 'no') },
    { header: 'EK CAS', value: (c) => String(c.spec.device_trust.ekcert_allowed_cas.length) },
    { header: 'EKPUB ALLOWED', value: (c) => (c.spec.device_trust.ekpub_allowed ? 'yes' : 'no') },
    { header: 'ORIGIN', value: (c) => c.metadata.labels?.[ORIGIN_LABEL] ?? '' },
  ],
};

export interface NewClusterAuthPreference {
  secondFactor?: SecondFactor;
  mode?: ClusterDeviceTrustMode;
  autoEnroll?: boolean;
  ekCertAllowedCas?: string[];
  ekpubAllowed?: boolean;
  origin?: string;
}

/** Builds and validates a preference in code (defaults for anything not given). */
export function newClusterAuthPreference(options: NewClusterAuthPreference = {}): ClusterAuthPreferenceResource {
  const device_trust: Record<string, unknown> = {};
  if (options.mode !== undefined) device_trust['mode'] = options.mode;
  if (options.autoEnroll !== undefined) device_trust['auto_enroll'] = options.autoEnroll;
  if (options.ekCertAllowedCas !== undefined) device_trust['ekcert_allowed_cas'] = options.ekCertAllowedCas;
  if (options.ekpubAllowed !== undefined) device_trust['ekpub_allowed'] = options.ekpubAllowed;
  const spec: Record<string, unknown> = { type: 'local', device_trust };
  if (options.secondFactor !== undefined) spec['second_factor'] = options.secondFactor;
  const metadata: Record<string, unknown> = { name: CAP_NAME };
  if (options.origin !== undefined) metadata['labels'] = { [ORIGIN_LABEL]: options.origin };
  return validateKind(clusterAuthPreferenceKind, { kind: CAP_KIND, version: 'v2', metadata, spec });
}

export function originOf(resource: { metadata: { labels?: Record<string, string> } }): string | undefined {
  return resource.metadata.labels?.[ORIGIN_LABEL];
}
