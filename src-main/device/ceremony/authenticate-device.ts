// The client half of TPM device authentication (DeviceTrustService.AuthenticateDevice), run
// after each login on an enrolled device:
//   init {current SSH + X.509 certificates, credential id, fresh device data}
//   ← challenge {nonce, PCRs}
//   → {quote over the nonce with the enrolled AK, PCR values}
//   ← success {the same certificates re-issued with the device fields, device}
// Plain Node: the Connect client, the TPM and the device data are passed in. The caller checks
// and stores the certificates (it has the key they must match).
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { CallOptions, Client } from '@connectrpc/connect';
import type {
  AuthenticateDeviceRequestSchema,
  DeviceTrustService,
} from '../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { credentialIdFromAkPublic } from '../../../src-shared/device-credential.ts';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { CollectedDeviceData } from '../collect.ts';
import {
  checkedPcrs,
  DEFAULT_STEP_TIMEOUT_MS,
  DEFAULT_TOTAL_TIMEOUT_MS,
  deviceDataMessage,
  cancel,
  deviceSummary,
  drain,
  nextAnswer,
  platformParameters,
  protocolError,
  RequestQueue,
  TimedTpm,
  type CeremonyTimings,
  type CeremonyTpm,
  type DeviceSummary,
  type StepLimits,
} from './stream-steps.ts';

export type AuthenticateApi = Pick<Client<typeof DeviceTrustService>, 'authenticateDevice'>;

export interface UserCertificatePair {
  /** OpenSSH user certificate, authorized_keys line. */
  sshCertificate: string;
  /** X.509 client certificate, PEM (the one the call is made with). */
  tlsCertificatePem: string;
}

export interface AuthenticateDeviceParams extends StepLimits {
  api: AuthenticateApi;
  tpm: CeremonyTpm;
  deviceData: CollectedDeviceData;
  certificates: UserCertificatePair;
  /**
   * The credential the device was enrolled with (from the local record). When the TPM's AK no
   * longer has this id (the AK was recreated) the ceremony cannot succeed: DEVICE_NOT_ENROLLED
   * without asking the cluster.
   */
  expectedCredentialId?: string;
  callOptions?: CallOptions;
}

export interface AuthenticateDeviceResult {
  device: DeviceSummary;
  credentialId: string;
  /** As the cluster sent them: unchecked. */
  certificates: UserCertificatePair;
  timings: CeremonyTimings;
}

type AuthRequest = MessageInitShape<typeof AuthenticateDeviceRequestSchema>;

export async function authenticateDevice(p: AuthenticateDeviceParams): Promise<AuthenticateDeviceResult> {
  const startedAt = performance.now();
  const tpm = new TimedTpm(p.tpm);
  const ak = await tpm.run('attestationKey');
  const credentialId = credentialIdFromAkPublic(ak.public);
  if (p.expectedCredentialId && p.expectedCredentialId !== credentialId) {
    throw new GatehouseError(
      ErrorCode.DEVICE_NOT_ENROLLED,
      `this TPM's attestation key (${credentialId.slice(0, 16)}…) is not the one this device was enrolled with ` +
        `(${p.expectedCredentialId.slice(0, 16)}…); the key was recreated`,
      { reason: 'AK_CHANGED' },
    );
  }
  const requests = new RequestQueue<AuthRequest>();
  const abort = new AbortController();
  const stepMs = p.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  requests.push({
    payload: {
      case: 'init',
      value: {
        userCertificates: {
          sshCertificate: p.certificates.sshCertificate,
          tlsCertificate: p.certificates.tlsCertificatePem,
        },
        credentialId,
        deviceData: deviceDataMessage(p.deviceData),
      },
    },
  });
  const call = p.api.authenticateDevice(requests, {
    ...p.callOptions,
    signal: abort.signal,
    timeoutMs: p.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS,
  });
  const answers = call[Symbol.asyncIterator]();
  let finished = false;
  try {
    const first = await nextAnswer(answers, stepMs, 'the device authentication request', abort);
    if (first?.payload.case !== 'tpmChallenge') {
      throw protocolError(
        first
          ? `expected a TPM challenge, got ${first.payload.case ?? 'nothing'}`
          : 'the stream ended before the challenge',
      );
    }
    const platform = await platformParameters(
      tpm,
      first.payload.value.attestationNonce,
      checkedPcrs(first.payload.value.pcrs),
    );
    requests.push({ payload: { case: 'tpmChallengeResponse', value: { platformParameters: platform } } });
    requests.end();

    const last = await nextAnswer(answers, stepMs, 'the TPM quote', abort);
    if (last?.payload.case !== 'success') {
      throw protocolError(
        last ? `expected success, got ${last.payload.case ?? 'nothing'}` : 'the stream ended without a result',
      );
    }
    const certs = last.payload.value.userCertificates;
    if (!certs?.sshCertificate || !certs.tlsCertificate) throw protocolError('success without re-issued certificates');
    const device = deviceSummary(last.payload.value.device, 'device authentication');
    finished = true;
    return {
      device,
      credentialId,
      certificates: { sshCertificate: certs.sshCertificate, tlsCertificatePem: certs.tlsCertificate },
      timings: tpm.timings(startedAt),
    };
  } finally {
    requests.end();
    if (finished) await drain(answers, stepMs, abort);
    else await cancel(answers, abort);
  }
}
