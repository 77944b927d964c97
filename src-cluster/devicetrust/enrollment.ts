// The enrollment ceremony, server half (TPM). The client proves three things before its device is
// marked enrolled: it holds a token an admin made for this device, its attestation key lives in a
// TPM (AK properties + the AK certifying its own creation), and that TPM is the one holding the EK
// it claims (only that TPM can activate the credential we seal to the EK for the AK's name). The
// quote over a fresh nonce shows the AK is live now. Any failure stores nothing; the token is spent
// the moment init arrives.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { accessTargets, type LockTarget } from '../locks/lock-targets.ts';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import { credentialIdFromAkPublic, ekKeyHash, tpmtPublicBytes } from '../../src-shared/device-credential.ts';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  EnrollDeviceInit,
  EnrollDeviceRequest,
  EnrollDeviceResponseSchema,
} from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import type { Logger } from '../log/logger.ts';
import type { AttestationType, DeviceCredential } from '../resources/device.ts';
import {
  CeremonyStream,
  collectedDataFromWire,
  deviceLabel,
  deviceToWire,
  newNonce,
  pcrBankFromWire,
  QUOTE_PCRS,
  required,
  requireMatchingSerial,
} from './ceremony-stream.ts';
import { alreadyEnrolledWith, type DeviceInventory, type StoredDevice } from './inventory.ts';
import { policyFailure } from './attestation-policy.ts';
import { assertAkProperties } from './tpm/ak-properties.ts';
import { verifyCreation } from './tpm/creation.ts';
import { makeCredential } from './tpm/credential.ts';
import { checkEkCertificate } from './tpm/ek-certificate.ts';
import { attestationError } from './tpm/errors.ts';
import { parsePublic, tpmName, type TpmPublic } from './tpm/public.ts';
import { verifyQuote } from './tpm/quote.ts';
import { discardAudit, type AuditEmitter } from '../audit/audit-events.ts';
import { errorMessage, recordRefusal } from '../audit/audit-emit.ts';

export interface DeviceCeremonyDeps {
  inventory: DeviceInventory;
  /** PEM certificates of the CAs trusted for EK certificates; empty = no CA check. Read per ceremony. */
  ekCertAllowedCas: () => string[];
  /** cluster_auth_preference device_trust.ekpub_allowed; absent = true (the default). Read per ceremony. */
  ekpubAllowed?: () => boolean;
  log: Logger;
  now?: () => Date;
  stepTimeoutMs?: number;
  /** device.enroll / device.authenticate / cert.create events; discarded when absent. */
  audit?: AuditEmitter;
  /** Throws ACCESS_DENIED (with the lock message) while a lock matches; see AccessChecker.requireNoLock. */
  requireNoLock?: (targets: LockTarget[], context?: Record<string, unknown>) => Promise<void>;
}

export interface Caller {
  user: string;
  address: string;
}

type EnrollResponse = MessageInitShape<typeof EnrollDeviceResponseSchema>;
const CREDENTIAL_SECRET_BYTES = 32;

interface AkEvidence {
  ak: TpmPublic;
  ek: TpmPublic;
  credential: DeviceCredential;
}

/** Checks everything in init that needs no TPM round trip: AK, its creation, EK and EK cert. */
function checkEnrollEvidence(init: EnrollDeviceInit, allowedCas: string[]): AkEvidence {
  const tpm = required(init.tpm, 'the TPM payload');
  const params = required(tpm.attestationParameters, 'the AK attestation parameters');
  const akBytes = tpmtPublicBytes(required(params.public, 'the AK public key'));
  const ak = parsePublic(akBytes);
  assertAkProperties(ak);
  const credentialId = credentialIdFromAkPublic(akBytes);
  if (init.credentialId !== credentialId) {
    throw attestationError(
      'credential_mismatch',
      `credential id ${init.credentialId || '(none)'} is not the hash of this attestation key`,
    );
  }
  verifyCreation({
    akPublic: ak,
    creationData: Buffer.from(required(params.createData, 'the AK creation data')),
    attest: Buffer.from(required(params.createAttestation, 'the AK creation attestation')),
    signature: Buffer.from(required(params.createSignature, 'the AK creation signature')),
  });
  const ekBytes = Buffer.from(required(tpm.ekPublic, 'the EK public key'));
  const ek = parsePublic(ekBytes);
  let attestationType: AttestationType = 'ekpub';
  let ekCertSerial: string | undefined;
  if (tpm.ekCert.length > 0) {
    const check = checkEkCertificate({ ekCertDer: Buffer.from(tpm.ekCert), ekPublic: ek, allowedCas });
    attestationType = check.attestationType;
    ekCertSerial = check.serial;
  } else if (allowedCas.length > 0) {
    throw attestationError(
      'untrusted_ek_cert',
      'this cluster only enrolls TPMs with an EK certificate from its allowed CAs (ekcert_allowed_cas), and this TPM sent none',
    );
  }
  const credential: DeviceCredential = {
    id: credentialId,
    public_key: akBytes.toString('base64'),
    attestation_type: attestationType,
    ek_key_hash: ekKeyHash(ekBytes),
  };
  if (ekCertSerial) credential.ek_cert_serial = ekCertSerial;
  // Kept so every later authentication can re-check the chain against the CAs in force then.
  if (tpm.ekCert.length > 0) credential.ek_cert = Buffer.from(tpm.ekCert).toString('base64');
  return { ak, ek, credential };
}

/** Refuses (fail closed, reason in details) evidence the cluster's attestation policy does not accept. */
export function requireAttestationPolicy(
  deps: Pick<DeviceCeremonyDeps, 'ekCertAllowedCas' | 'ekpubAllowed'>,
  device: StoredDevice,
  credential: DeviceCredential,
  at: Date,
  prefix = '',
): void {
  const policy = { ekpubAllowed: deps.ekpubAllowed?.() ?? true, ekCertAllowedCas: deps.ekCertAllowedCas() };
  const failure = policyFailure({ credential, boundEkKeyHash: device.spec.ek_key_hash }, policy, at);
  if (failure) throw attestationError(failure.reason, prefix + failure.message, { policy: failure.short });
}

/** Another device holding this credential (by its index key: one read, not a scan). */
async function otherHolder(deps: DeviceCeremonyDeps, credentialId: string, deviceId: string) {
  const holder = await deps.inventory.findByCredential(credentialId);
  return holder && holder.metadata.name !== deviceId ? holder : undefined;
}

export async function* enrollDevice(
  deps: DeviceCeremonyDeps,
  caller: Caller,
  requests: AsyncIterable<EnrollDeviceRequest>,
): AsyncGenerator<EnrollResponse> {
  const now = deps.now ?? (() => new Date());
  const stream = new CeremonyStream(requests, deps.stepTimeoutMs);
  const log = deps.log;
  const audit = deps.audit ?? discardAudit;
  let deviceId: string | undefined;
  let assetTag = '';
  try {
    const init = await stream.next('init');
    deviceId = await deps.inventory.spendEnrollToken(required(init.token, 'the enroll token'));
    const device = await deps.inventory.get(deviceId);
    assetTag = device.spec.asset_tag;
    await deps.requireNoLock?.(accessTargets({ user: caller.user, device: device.metadata.name }), {
      action: 'device enrollment',
    });
    const data = collectedDataFromWire(required(init.deviceData, 'the device data'), now());
    requireMatchingSerial(device, data);
    const evidence = checkEnrollEvidence(init, deps.ekCertAllowedCas());
    requireAttestationPolicy(deps, device, evidence.credential, now());
    // Early, to spare the TPM round trip; enroll() below decides a race.
    if (device.spec.enroll_status === 'enrolled' && device.spec.credential?.id === evidence.credential.id) {
      throw alreadyEnrolledWith(device.spec);
    }
    const holder = await otherHolder(deps, evidence.credential.id, device.metadata.name);
    if (holder) {
      throw new GatehouseError(
        ErrorCode.ALREADY_EXISTS,
        `this attestation key is already enrolled as device ${deviceLabel(holder)}; unenroll that device first`,
      );
    }

    const secret = randomBytes(CREDENTIAL_SECRET_BYTES);
    const nonce = newNonce();
    const sealed = makeCredential(evidence.ek, tpmName(evidence.ak), secret);
    yield {
      payload: {
        case: 'tpmChallenge',
        value: {
          // The wire carries the TPM2B contents; the TPM's marshalling adds the size again.
          encryptedCredential: {
            credentialBlob: sealed.credentialBlob.subarray(2),
            secret: sealed.encryptedSecret.subarray(2),
          },
          attestationNonce: nonce,
          pcrs: [...QUOTE_PCRS],
        },
      },
    };

    const answer = await stream.next('tpmChallengeResponse');
    const solution = Buffer.from(answer.solution);
    if (solution.length !== secret.length || !timingSafeEqual(solution, secret)) {
      throw attestationError(
        'wrong_secret',
        'the device did not recover the sealed secret: its TPM does not hold this EK and AK',
      );
    }
    const platform = required(answer.platformParameters, 'the platform parameters');
    const quote = required(platform.quote, 'the quote');
    verifyQuote({
      akPublic: evidence.ak,
      attest: Buffer.from(quote.quote),
      signature: Buffer.from(quote.signature),
      nonce,
      pcrs: [pcrBankFromWire(platform, QUOTE_PCRS)],
    });

    // enroll(), not update(): a second ceremony of this device with this key that got this far
    // (another token, another auth server) is refused by the write itself.
    const enrolled = await deps.inventory.enroll(device.metadata.name, (spec) => ({
      ...spec,
      enroll_status: 'enrolled',
      // The server's clock, as for collected data: the app shows when this credential was enrolled.
      credential: { ...evidence.credential, enroll_time: now().toISOString() },
      collected_data: [...spec.collected_data, data],
      owner: spec.owner ?? caller.user,
    }));
    // The check above and this write are two steps; if a concurrent enrollment of the same AK
    // into another device got in between, undo ours (both may undo: failing closed is fine).
    const raced = await otherHolder(deps, evidence.credential.id, device.metadata.name);
    if (raced) {
      await deps.inventory.update(device.metadata.name, (spec) => ({ ...spec, enroll_status: 'not_enrolled' }));
      throw new GatehouseError(
        ErrorCode.ALREADY_EXISTS,
        `this attestation key was enrolled as device ${deviceLabel(raced)} at the same time; unenroll that device first`,
      );
    }
    log.info('device enrolled', {
      device_id: enrolled.metadata.name,
      asset_tag: enrolled.spec.asset_tag,
      credential_id: evidence.credential.id,
      attestation_type: evidence.credential.attestation_type,
      user: caller.user,
      client: caller.address,
    });
    await audit.emit({
      type: 'device.enroll',
      success: true,
      user: caller.user,
      fields: {
        device_id: enrolled.metadata.name,
        asset_tag: enrolled.spec.asset_tag,
        credential_id: evidence.credential.id,
        attestation_type: evidence.credential.attestation_type,
        client_address: caller.address,
      },
    });
    yield { payload: { case: 'success', value: { device: deviceToWire(enrolled) } } };
  } catch (e) {
    log.warn('device enrollment failed', {
      device_id: deviceId ?? '',
      user: caller.user,
      client: caller.address,
      code: isGatehouseError(e) ? e.code : ErrorCode.INTERNAL,
      reason: isGatehouseError(e) ? String(e.details?.['reason'] ?? '') : '',
      error: (e as Error).message,
    });
    await recordRefusal(
      audit,
      {
        type: 'device.enroll',
        success: false,
        user: caller.user,
        message: errorMessage(e),
        fields: {
          device_id: deviceId ?? '',
          asset_tag: assetTag,
          error_code: isGatehouseError(e) ? e.code : ErrorCode.INTERNAL,
          reason: isGatehouseError(e) ? String(e.details?.['reason'] ?? '') : '',
          client_address: caller.address,
        },
      },
      log,
    );
    throw e;
  }
}
