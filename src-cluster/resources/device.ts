// `kind: device` — one machine in the device inventory. The name is a server-made uuid so an
// asset tag (a serial number, which admins may correct) never becomes a key; the asset tag is
// unique per OS, which the inventory enforces. Collected data is what the device reported
// about itself at enrollment/authentication, newest last, capped so records stay small.
import { z } from 'zod';
import { EK_KEY_HASH_PATTERN } from '../../src-shared/device-credential.ts';
import { description, labels, strictFields, wrongType } from './fields.ts';
import type { KindDefinition } from './registry.ts';

export const DEVICE_OS_TYPES = ['linux', 'macos', 'windows'] as const;
export type DeviceOsType = (typeof DEVICE_OS_TYPES)[number];
export const ENROLL_STATUSES = ['not_enrolled', 'enrolled'] as const;
export type EnrollStatus = (typeof ENROLL_STATUSES)[number];
export const ATTESTATION_TYPES = ['ekpub', 'ekcert', 'ekcert_trusted'] as const;
export type AttestationType = (typeof ATTESTATION_TYPES)[number];
export const DEVICE_SOURCES = ['api', 'jamf', 'intune'] as const;
export type DeviceSource = (typeof DEVICE_SOURCES)[number];
/** How many collected-data snapshots a device record keeps. */
export const MAX_COLLECTED_DATA = 10;

export interface DeviceCredential {
  id: string;
  /** Base64 TPMT_PUBLIC of the attestation key. */
  public_key: string;
  attestation_type: AttestationType;
  ek_cert_serial?: string;
  /** EK key hash of the TPM that enrolled (see ekKeyHash in src-shared/device-credential.ts). */
  ek_key_hash?: string;
  /** Base64 DER of the EK certificate sent at enrollment, kept so later policy changes can re-check its chain. */
  ek_cert?: string;
  /** When this credential was enrolled (RFC 3339); absent on records enrolled before it was kept. */
  enroll_time?: string;
}

export interface DeviceCollectedData {
  collect_time: string;
  os_type: DeviceOsType;
  serial_number: string;
  serial_source?: string;
  serial_note?: string;
  os_id?: string;
  os_version?: string;
  os_version_id?: string;
  os_build?: string;
  hostname?: string;
  os_username?: string;
  model?: string;
}

export interface DeviceSpec {
  asset_tag: string;
  os_type: DeviceOsType;
  enroll_status: EnrollStatus;
  credential?: DeviceCredential;
  /**
   * The admin's binding of this device to its TPM (`gatectl devices add --ek-key-hash`): when set,
   * only the TPM whose EK has this hash can enroll (and authenticate) as this device.
   */
  ek_key_hash?: string;
  collected_data: DeviceCollectedData[];
  source: DeviceSource;
  owner?: string;
  create_time: string;
  update_time: string;
}

export interface DeviceResource {
  kind: 'device';
  version: 'v1';
  metadata: { name: string; description?: string; labels?: Record<string, string> };
  spec: DeviceSpec;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function oneOf<T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: () => `expected one of: ${values.join(', ')}` });
}

const text = (what = 'a string') => z.string(wrongType(`expected ${what}`));
const nonEmpty = (field: string) => text().min(1, { error: `${field} must not be empty` });

const time = text('an RFC 3339 time').refine((v) => !Number.isNaN(Date.parse(v)), {
  error: 'expected an RFC 3339 time such as 2026-01-02T03:04:05Z',
});

/** Asset tags are serial numbers: printable, no spaces at the ends, bounded. */
export function assetTagProblem(tag: string): string | undefined {
  if (tag.length === 0) return 'asset tag must not be empty';
  if (tag.length > 128) return 'asset tag must be at most 128 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f/]/.test(tag)) return `asset tag ${JSON.stringify(tag)} contains "/" or control characters`;
  if (tag.trim() !== tag) return `asset tag ${JSON.stringify(tag)} has leading or trailing spaces`;
  return undefined;
}

export const assetTag = text().superRefine((tag, ctx) => {
  const problem = assetTagProblem(tag);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: tag });
});

const ekKeyHashField = text().regex(EK_KEY_HASH_PATTERN, {
  error:
    'an EK key hash is 64 lowercase hex digits: the SHA-256 of the EK public key as "gate device keyget" prints it',
});

const credential = strictFields({
  id: nonEmpty('credential id'),
  public_key: text('base64 text').regex(BASE64, { error: 'expected base64 text (the TPMT_PUBLIC of the AK)' }),
  attestation_type: oneOf(ATTESTATION_TYPES),
  ek_cert_serial: text().optional(),
  ek_key_hash: ekKeyHashField.optional(),
  ek_cert: text('base64 text').regex(BASE64, { error: 'expected base64 text (the DER EK certificate)' }).optional(),
  enroll_time: time.optional(),
});

const snapshot = strictFields({
  collect_time: time,
  os_type: oneOf(DEVICE_OS_TYPES),
  serial_number: text(),
  serial_source: text().optional(),
  serial_note: text().optional(),
  os_id: text().optional(),
  os_version: text().optional(),
  os_version_id: text().optional(),
  os_build: text().optional(),
  hostname: text().optional(),
  os_username: text().optional(),
  model: text().optional(),
});

export const deviceSchema: z.ZodType<DeviceResource> = strictFields({
  kind: z.literal('device'),
  version: z.literal('v1'),
  metadata: strictFields({
    name: text().regex(UUID, { error: 'a device name is its id: a lowercase uuid made by the server' }),
    description: description.optional(),
    labels: labels.optional(),
  }),
  spec: strictFields({
    asset_tag: assetTag,
    os_type: oneOf(DEVICE_OS_TYPES),
    enroll_status: oneOf(ENROLL_STATUSES),
    credential: credential.optional(),
    ek_key_hash: ekKeyHashField.optional(),
    collected_data: z
      .array(snapshot, wrongType('expected a list of collected-data snapshots'))
      .max(MAX_COLLECTED_DATA, { error: `at most ${MAX_COLLECTED_DATA} snapshots are kept` }),
    source: oneOf(DEVICE_SOURCES),
    owner: text().optional(),
    create_time: time,
    update_time: time,
  }),
}).superRefine((device, ctx) => {
  // An enrolled device without a credential could never authenticate; a credential on an
  // unenrolled one would be trusted by nobody and only confuse readers.
  if (device.spec.enroll_status === 'enrolled' && !device.spec.credential) {
    ctx.addIssue({
      code: 'custom',
      path: ['spec', 'enroll_status'],
      message: 'an enrolled device needs a credential; enroll it with a token instead of editing',
      input: device.spec,
    });
  }
});

export const deviceKind: KindDefinition<DeviceResource> = {
  kind: 'device',
  versions: ['v1'],
  schema: deviceSchema,
  description: 'a registered machine: asset tag, OS, enrollment state and TPM credential',
  aliases: ['devices'],
  columns: [
    { header: 'ASSET TAG', value: (d) => d.spec.asset_tag },
    { header: 'OS', value: (d) => d.spec.os_type },
    { header: 'ENROLL STATUS', value: (d) => d.spec.enroll_status },
    { header: 'DEVICE ID', value: (d) => d.metadata.name },
  ],
};

export function isDeviceOsType(value: string): value is DeviceOsType {
  return (DEVICE_OS_TYPES as readonly string[]).includes(value);
}

/** The error text for a bad --os / os_type, listing what is allowed. */
export function osTypeProblem(value: string): string | undefined {
  return isDeviceOsType(value)
    ? undefined
    : `unknown OS ${JSON.stringify(value)}; allowed: ${DEVICE_OS_TYPES.join(', ')}`;
}
