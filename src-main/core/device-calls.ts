// The DeviceTrustService calls as ClusterClient runs them: the ceremonies (src-main/device/
// ceremony) over the profile's connection, the answer to a login's device challenge over the
// login's connection, and for authentication the checks that turn the re-issued certificates
// into the profile's new device-trusted state. Kept apart from
// cluster-client.ts so that file stays about connections and the auth API.
import type { Client } from '@connectrpc/connect';
import type { DeviceTrustService } from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import type { CollectedDeviceData } from '../device/collect.ts';
import {
  answerLoginChallenge,
  type AnswerChallengeApi,
  type LoginDeviceChallenge,
} from '../device/ceremony/answer-login-challenge.ts';
import {
  authenticateDevice,
  type AuthenticateDeviceResult,
  type UserCertificatePair,
} from '../device/ceremony/authenticate-device.ts';
import { enrollDevice, type EnrollDeviceResult } from '../device/ceremony/enroll-device.ts';
import type { CeremonyTimings, CeremonyTpm, DeviceSummary, StepLimits } from '../device/ceremony/stream-steps.ts';
import { checkReissuedCertificates } from './device-fields.ts';
import type { Profile, ProfileCredentials, ProfileStore } from './profiles.ts';

export interface DeviceEnrollParams extends StepLimits {
  tpm: CeremonyTpm;
  deviceData: CollectedDeviceData;
  token: string;
  /** See enrollDevice's onStep. */
  onStep?: (step: 'create-ak' | 'activate-credential' | 'quote') => void;
}

export interface DeviceAuthParams extends StepLimits {
  tpm: CeremonyTpm;
  deviceData: CollectedDeviceData;
  /** The credential of the local enrollment record; a different AK fails fast. */
  expectedCredentialId?: string;
}

export interface DeviceChallengeParams {
  tpm: CeremonyTpm;
  deviceData: CollectedDeviceData;
  challenge: LoginDeviceChallenge;
  /** The credential the login named (the local enrollment record's). */
  credentialId: string;
  /** PCR values read while the login was in flight (DeviceTrust.prepare). */
  pcrsReadEarlier?: ReadonlyMap<number, Buffer>;
  timeoutMs?: number;
  /** The login's key and certificates when it is not stored yet (ClusterClient.loginWithDeviceChallenge). */
  credentials?: ProfileCredentials;
}

export interface DeviceAuthOutcome {
  /** The profile as stored now: device fields from the certificates. */
  profile: Profile;
  device: DeviceSummary;
  certificates: UserCertificatePair;
  timings: CeremonyTimings;
}

type DeviceApi = Client<typeof DeviceTrustService>;

export function runDeviceEnrollment(api: DeviceApi, p: DeviceEnrollParams): Promise<EnrollDeviceResult> {
  return enrollDevice({ api, ...p });
}

export async function runDeviceAuthentication(
  api: DeviceApi,
  profile: Profile,
  creds: ProfileCredentials,
  p: DeviceAuthParams,
): Promise<DeviceAuthOutcome> {
  const r = await authenticateDevice({
    api,
    tpm: p.tpm,
    deviceData: p.deviceData,
    certificates: { sshCertificate: creds.sshCertificate, tlsCertificatePem: creds.tlsCertificatePem },
    ...(p.expectedCredentialId ? { expectedCredentialId: p.expectedCredentialId } : {}),
    ...(p.stepTimeoutMs ? { stepTimeoutMs: p.stepTimeoutMs } : {}),
    ...(p.totalTimeoutMs ? { totalTimeoutMs: p.totalTimeoutMs } : {}),
  });
  return checkedOutcome(profile, creds, r);
}

/** The answer to the device challenge `profile`'s login carried, on the login's connection. */
export async function runLoginChallengeAnswer(
  api: AnswerChallengeApi,
  profile: Profile,
  creds: ProfileCredentials,
  p: DeviceChallengeParams,
): Promise<DeviceAuthOutcome> {
  const r = await answerLoginChallenge({
    api,
    tpm: p.tpm,
    deviceData: p.deviceData,
    certificates: { sshCertificate: creds.sshCertificate, tlsCertificatePem: creds.tlsCertificatePem },
    challenge: p.challenge,
    expectedCredentialId: p.credentialId,
    ...(p.pcrsReadEarlier ? { pcrsReadEarlier: p.pcrsReadEarlier } : {}),
    ...(p.timeoutMs ? { timeoutMs: p.timeoutMs } : {}),
  });
  return checkedOutcome(profile, creds, r);
}

/** The re-issued certificates checked against the login's (same key, expiry, our credential). */
function checkedOutcome(profile: Profile, creds: ProfileCredentials, r: AuthenticateDeviceResult): DeviceAuthOutcome {
  const fields = checkReissuedCertificates({
    current: {
      sshCertificate: creds.sshCertificate,
      tlsCertificatePem: creds.tlsCertificatePem,
      publicKeyBlob: creds.key.publicKeyBlob,
    },
    reissued: r.certificates,
    credentialId: r.credentialId,
  });
  return {
    profile: { ...profile, device: { ...fields, ...(r.device.osType ? { osType: r.device.osType } : {}) } },
    device: r.device,
    certificates: r.certificates,
    timings: r.timings,
  };
}

/**
 * A login not stored yet has its key file written while the TPM quotes (its commands run on the
 * addon's worker threads) and the answer is on the wire, so the fsync overlaps them instead of
 * following the answer; the write runs on libuv's pool, off the event loop. False when it failed:
 * the final save writes the key and reports the error.
 */
export function storeKeySoon(profiles: ProfileStore, profile: Profile, creds: ProfileCredentials): Promise<boolean> {
  return profiles.saveKey(profile, creds.key).then(
    () => true,
    () => false,
  );
}
