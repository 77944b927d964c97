// The client half of TPM device enrollment (DeviceTrustService.EnrollDevice):
//   init {token, credential id, device data, EK public (+ EK cert if any), AK + creation evidence}
//   ← challenge {credential sealed to EK+AK, nonce, PCRs}
//   → {ActivateCredential's secret, quote over the nonce, PCR values}
//   ← success {device}
// Plain Node: the Connect client, the TPM and the device data are passed in.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { CallOptions, Client } from '@connectrpc/connect';
import type { DeviceTrustService, EnrollDeviceRequestSchema } from '../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
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

export type EnrollApi = Pick<Client<typeof DeviceTrustService>, 'enrollDevice'>;

export interface EnrollDeviceParams extends StepLimits {
  api: EnrollApi;
  tpm: CeremonyTpm;
  deviceData: CollectedDeviceData;
  /** The single-use enroll token from the administrator. */
  token: string;
  /** Extra call options (e.g. headers); signal and timeout are set here. */
  callOptions?: CallOptions;
  /** Told when each TPM step starts, so the app can show which one is running or failed. */
  onStep?: (step: 'create-ak' | 'activate-credential' | 'quote') => void;
}

export interface EnrollDeviceResult {
  device: DeviceSummary;
  /** Ours, computed from the AK (the cluster's record must name the same one). */
  credentialId: string;
  timings: CeremonyTimings;
}

type EnrollRequest = MessageInitShape<typeof EnrollDeviceRequestSchema>;

export async function enrollDevice(p: EnrollDeviceParams): Promise<EnrollDeviceResult> {
  const startedAt = performance.now();
  const token = p.token.trim();
  if (!token) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'the enroll token is empty');
  const tpm = new TimedTpm(p.tpm);
  p.onStep?.('create-ak');
  const ak = await tpm.run('attestationKey');
  const credentialId = credentialIdFromAkPublic(ak.public);
  const ekCert = await tpm.run('ekCertificate');
  // The EK public always (what the credential is sealed to), the certificate when the TPM has one.
  const ekPublic = await tpm.run('ekPublic');

  const requests = new RequestQueue<EnrollRequest>();
  const abort = new AbortController();
  const stepMs = p.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  requests.push({
    payload: {
      case: 'init',
      value: {
        token,
        credentialId,
        deviceData: deviceDataMessage(p.deviceData),
        tpm: {
          ekPublic,
          ...(ekCert ? { ekCert } : {}),
          attestationParameters: {
            public: ak.public,
            createData: ak.creationData,
            createAttestation: ak.creationAttest,
            createSignature: ak.creationSignature,
          },
        },
      },
    },
  });
  const call = p.api.enrollDevice(requests, {
    ...p.callOptions,
    signal: abort.signal,
    timeoutMs: p.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS,
  });
  const answers = call[Symbol.asyncIterator]();
  let finished = false;
  try {
    // The cluster checks the token and evidence, then seals the credential: one step for people
    // ("the cluster's TPM challenge"), so a refused token fails here, not at the AK.
    p.onStep?.('activate-credential');
    const first = await nextAnswer(answers, stepMs, 'the enrollment request', abort);
    if (first?.payload.case !== 'tpmChallenge') {
      throw protocolError(
        first
          ? `expected a TPM challenge, got ${first.payload.case ?? 'nothing'}`
          : 'the stream ended before the TPM challenge',
      );
    }
    const ch = first.payload.value;
    const sealed = ch.encryptedCredential;
    if (!sealed || sealed.credentialBlob.length === 0 || sealed.secret.length === 0) {
      throw protocolError('the TPM challenge carries no sealed credential');
    }
    const pcrs = checkedPcrs(ch.pcrs);
    const solution = await tpm.run(
      'activateCredential',
      Buffer.from(sealed.credentialBlob),
      Buffer.from(sealed.secret),
    );
    p.onStep?.('quote');
    const platform = await platformParameters(tpm, ch.attestationNonce, pcrs);
    requests.push({ payload: { case: 'tpmChallengeResponse', value: { solution, platformParameters: platform } } });
    requests.end();

    const last = await nextAnswer(answers, stepMs, 'the TPM challenge response', abort);
    if (last?.payload.case !== 'success') {
      throw protocolError(
        last ? `expected success, got ${last.payload.case ?? 'nothing'}` : 'the stream ended without a result',
      );
    }
    const device = deviceSummary(last.payload.value.device, 'enrollment');
    if (device.credentialId && device.credentialId !== credentialId) {
      throw protocolError(`the cluster enrolled credential ${device.credentialId}, not this TPM's ${credentialId}`);
    }
    finished = true;
    return { device: { ...device, credentialId }, credentialId, timings: tpm.timings(startedAt) };
  } finally {
    requests.end();
    // Leaving early (error, timeout) must end the call; a finished one is read to its end.
    if (finished) await drain(answers, stepMs, abort);
    else await cancel(answers, abort);
  }
}
