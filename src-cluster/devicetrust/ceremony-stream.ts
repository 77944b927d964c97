// Shared pieces of the two device ceremonies: reading the client's next message of an expected
// kind within a deadline, the PCRs the server asks for, and the conversions between proto
// messages and the inventory's records. The ceremonies themselves are async generators over the
// request stream, so they run the same in tests (plain arrays) and behind Connect.
import { randomBytes } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  DeviceCollectedData as WireCollectedData,
  DeviceSchema,
  TpmPlatformParameters,
} from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import type { DeviceCollectedData, DeviceOsType } from '../resources/device.ts';
import { DEVICE_OS_TYPES } from '../resources/device.ts';
import type { StoredDevice } from './inventory.ts';
import type { PcrBank } from './tpm/quote.ts';

/** SHA-256 PCRs quoted in both ceremonies: the firmware and boot-loader measurements. */
export const QUOTE_PCRS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7];
/** How long the server waits for each client message (a TPM quote takes well under a second). */
export const DEFAULT_STEP_TIMEOUT_MS = 30_000;
export const NONCE_BYTES = 32;

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** A request stream read one expected message at a time. */
export class CeremonyStream<Req extends { payload: { case: string | undefined; value?: unknown } }> {
  readonly #it: AsyncIterator<Req>;
  readonly #timeoutMs: number;

  constructor(requests: AsyncIterable<Req>, timeoutMs = DEFAULT_STEP_TIMEOUT_MS) {
    this.#it = requests[Symbol.asyncIterator]();
    this.#timeoutMs = timeoutMs;
  }

  /** The next message, which must carry `want`; anything else ends the ceremony with a coded error. */
  async next<C extends NonNullable<Req['payload']['case']>>(
    want: C,
  ): Promise<Extract<Req['payload'], { case: C }>['value']> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new GatehouseError(
              ErrorCode.BAD_REQUEST,
              `the device did not send its ${want} within ${this.#timeoutMs / 1000} s`,
            ),
          ),
        this.#timeoutMs,
      );
    });
    try {
      const r = await Promise.race([this.#it.next(), timeout]);
      if (r.done)
        throw new GatehouseError(ErrorCode.BAD_REQUEST, `the device closed the stream before sending its ${want}`);
      const payload = r.value.payload;
      if (payload.case !== want) {
        throw new GatehouseError(ErrorCode.BAD_REQUEST, `expected ${want}, got ${payload.case ?? 'an empty message'}`);
      }
      return payload.value as Extract<Req['payload'], { case: C }>['value'];
    } finally {
      clearTimeout(timer);
    }
  }
}

export function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null || (value instanceof Uint8Array && value.length === 0) || value === '') {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `${what} is missing`);
  }
  return value;
}

/** The collected data as the inventory stores it; the OS type must be one we know. */
export function collectedDataFromWire(data: WireCollectedData, now: Date): DeviceCollectedData {
  if (!(DEVICE_OS_TYPES as readonly string[]).includes(data.osType)) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `device data has os type "${data.osType}"; expected one of ${DEVICE_OS_TYPES.join(', ')}`,
    );
  }
  const out: DeviceCollectedData = {
    // The server's clock: a device's own clock says nothing trustworthy about when it reported.
    collect_time: now.toISOString(),
    os_type: data.osType as DeviceOsType,
    serial_number: data.serialNumber,
  };
  const optional: [keyof DeviceCollectedData, string][] = [
    ['serial_source', data.serialSource],
    ['serial_note', data.serialNote],
    ['os_id', data.osId],
    ['os_version', data.osVersion],
    ['os_version_id', data.osVersionId],
    ['os_build', data.osBuild],
    ['hostname', data.hostname],
    ['os_username', data.osUsername],
    ['model', data.model],
  ];
  for (const [key, value] of optional) if (value) (out as unknown as Record<string, string>)[key] = value;
  return out;
}

/** The device's self-reported serial must be the asset tag it is registered under. */
export function requireMatchingSerial(device: StoredDevice, data: DeviceCollectedData): void {
  if (data.os_type !== device.spec.os_type || data.serial_number !== device.spec.asset_tag) {
    throw new GatehouseError(
      ErrorCode.ACCESS_DENIED,
      `this device reports serial "${data.serial_number}" (${data.os_type}), but the cluster knows it as ` +
        `"${device.spec.asset_tag}"/${device.spec.os_type}; check the asset tag (gate device asset-tag) with your administrator`,
      { reason: 'asset_tag_mismatch' },
    );
  }
}

/** The quoted PCR values the client sent, as one SHA-256 bank; exactly the requested indices. */
export function pcrBankFromWire(params: TpmPlatformParameters, requested: readonly number[]): PcrBank {
  const values = new Map<number, Buffer>();
  for (const pcr of params.pcrs) {
    if (values.has(pcr.index)) throw new GatehouseError(ErrorCode.BAD_REQUEST, `PCR ${pcr.index} is sent twice`);
    values.set(pcr.index, Buffer.from(pcr.value));
  }
  const sent = [...values.keys()].sort((a, b) => a - b).join(',');
  if (sent !== [...requested].sort((a, b) => a - b).join(',')) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `expected values of PCRs ${requested.join(',')}, got ${sent || 'none'}`,
    );
  }
  return { hash: 'sha256', values };
}

export function deviceToWire(device: StoredDevice): MessageInitShape<typeof DeviceSchema> {
  return {
    id: device.metadata.name,
    assetTag: device.spec.asset_tag,
    osType: device.spec.os_type,
    enrollStatus: device.spec.enroll_status,
    credentialId: device.spec.credential?.id ?? '',
    attestationType: device.spec.credential?.attestation_type ?? '',
  };
}

export function deviceLabel(device: StoredDevice): string {
  return `"${device.spec.asset_tag}"/${device.spec.os_type}`;
}
