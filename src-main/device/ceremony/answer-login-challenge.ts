// The client half of device authentication folded into the login
// (DeviceTrustService.AnswerLoginDeviceChallenge): the login response carried a single-use
// challenge {nonce, PCRs}; the TPM quotes over it with the enrolled AK and one unary call on the
// login's own connection returns the login's certificates re-issued with the device fields.
// Compared with the stream (authenticate-device.ts) this saves the second TLS handshake (the
// stream needs the new certificate as client certificate) and the stream's first round trip
// (the nonce came with the login). Plain Node: the Connect client, the TPM and the device data
// are passed in; the caller checks and stores the certificates.
import type { CallOptions, Client } from '@connectrpc/connect';
import type { DeviceTrustService } from '../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { credentialIdFromAkPublic } from '../../../src-shared/device-credential.ts';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { CollectedDeviceData } from '../collect.ts';
import type { AuthenticateDeviceResult, UserCertificatePair } from './authenticate-device.ts';
import {
  checkedPcrs,
  DEFAULT_STEP_TIMEOUT_MS,
  deviceDataMessage,
  deviceSummary,
  platformParameters,
  protocolError,
  TimedTpm,
  type CeremonyTpm,
} from './stream-steps.ts';

export type AnswerChallengeApi = Pick<Client<typeof DeviceTrustService>, 'answerLoginDeviceChallenge'>;

/** LoginResponse.device_challenge as the client keeps it until it answers. */
export interface LoginDeviceChallenge {
  nonce: Uint8Array;
  pcrs: number[];
  expiresAt: Date;
}

export interface AnswerLoginChallengeParams {
  api: AnswerChallengeApi;
  tpm: CeremonyTpm;
  deviceData: CollectedDeviceData;
  /** The login's certificates, exactly as the login returned them. */
  certificates: UserCertificatePair;
  challenge: LoginDeviceChallenge;
  /** The credential the login named (the local enrollment record's); a different AK fails fast. */
  expectedCredentialId: string;
  /** PCR values read while the login was in flight; sent when the quote covers them (early-pcrs.ts). */
  pcrsReadEarlier?: ReadonlyMap<number, Buffer>;
  /** Deadline of the call (default: the stream's per-step deadline, 30 s). */
  timeoutMs?: number;
  callOptions?: CallOptions;
}

export async function answerLoginChallenge(p: AnswerLoginChallengeParams): Promise<AuthenticateDeviceResult> {
  const startedAt = performance.now();
  if (p.challenge.nonce.length === 0) throw protocolError('empty attestation nonce');
  const pcrs = checkedPcrs(p.challenge.pcrs);
  const tpm = new TimedTpm(p.tpm);
  // Loaded while the login was in flight (DeviceTrust.prepare): this reads the cached AK.
  const ak = await tpm.run('attestationKey');
  const credentialId = credentialIdFromAkPublic(ak.public);
  if (p.expectedCredentialId !== credentialId) {
    throw new GatehouseError(
      ErrorCode.DEVICE_NOT_ENROLLED,
      `this TPM's attestation key (${credentialId.slice(0, 16)}…) is not the one this device was enrolled with ` +
        `(${p.expectedCredentialId.slice(0, 16)}…); the key was recreated`,
      { reason: 'AK_CHANGED' },
    );
  }
  const platform = await platformParameters(tpm, p.challenge.nonce, pcrs, p.pcrsReadEarlier);
  const r = await p.api.answerLoginDeviceChallenge(
    {
      init: {
        userCertificates: {
          sshCertificate: p.certificates.sshCertificate,
          tlsCertificate: p.certificates.tlsCertificatePem,
        },
        credentialId,
        deviceData: deviceDataMessage(p.deviceData),
      },
      attestationNonce: p.challenge.nonce,
      platformParameters: platform,
    },
    { ...p.callOptions, timeoutMs: p.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS },
  );
  const certs = r.userCertificates;
  if (!certs?.sshCertificate || !certs.tlsCertificate) throw protocolError('success without re-issued certificates');
  return {
    device: deviceSummary(r.device, 'device authentication'),
    credentialId,
    certificates: { sshCertificate: certs.sshCertificate, tlsCertificatePem: certs.tlsCertificate },
    timings: tpm.timings(startedAt),
  };
}
