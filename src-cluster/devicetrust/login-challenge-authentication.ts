// Device authentication folded into the login, server half: the client answers the challenge its
// login response carried (login-challenges.ts) with a quote, in one unary call on the
// connection the login used. The same checks as the stream ceremony (authentication.ts) run in
// the same order with the same codes and audit events; what the stream learns from the mTLS
// connection (who calls, with which certificate) comes here from the challenge's binding, and
// the presented certificates must be exactly the ones that login issued.
//
// What does not need the quote is done while the client makes it (between the login response
// and the answer): the login's certificates are checked and, for an enrolled device with the
// named credential, signed again with its fields. The answer then re-checks everything that can
// have changed (the device, the policy, the data, the quote, locks, expiry) and sends the
// pre-signed certificates only when all of it passed and the device fields are still the same;
// otherwise it signs anew, as the stream does.
import { X509Certificate } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  AnswerLoginDeviceChallengeRequest,
  AuthenticateDeviceSuccessSchema,
} from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { checkPresentedCerts, reissueWithDevice } from '../auth/device-certs.ts';
import type { ClientCertContents } from '../auth/x509.ts';
import {
  checkAuthenticationInit,
  finishAuthentication,
  recordAuthenticationFailure,
  StepTimes,
  type AuthenticatingCaller,
  type AuthenticationDeps,
  type PreparedAnswer,
} from './authentication.ts';
import { required } from './ceremony-stream.ts';
import type { StoredDevice } from './inventory.ts';
import type { IssuedLoginChallenge, LoginDeviceChallenges } from './login-challenges.ts';

export interface LoginChallengeDeps extends AuthenticationDeps {
  loginChallenges: LoginDeviceChallenges;
}

type AuthenticateSuccess = MessageInitShape<typeof AuthenticateDeviceSuccessSchema>;

/** A login that named a device credential, as the Login call has it. */
export interface ChallengedLogin {
  user: string;
  sshCertificate: string;
  tlsCertificatePem: string;
  credentialId: string;
  /** What the login signed into tlsCertificatePem (AuthServer.issueUserCerts): not parsed again. */
  tlsContents?: ClientCertContents;
}

/** The device challenge for a login (Login calls this), with its answer's preparation under way. */
export function issueLoginChallenge(deps: LoginChallengeDeps, login: ChallengedLogin): IssuedLoginChallenge {
  const certDer = new X509Certificate(login.tlsCertificatePem).raw;
  const prepared = prepareAnswer(deps, login, certDer);
  return deps.loginChallenges.issue({ user: login.user, certDer, credentialId: login.credentialId, prepared });
}

/**
 * The login's certificates checked, and re-signed with the device fields when the named
 * credential is an enrolled device's. Any failure: undefined, and the answer does it all itself
 * (reporting the error with its code).
 */
async function prepareAnswer(
  deps: LoginChallengeDeps,
  login: ChallengedLogin,
  certDer: Buffer,
): Promise<PreparedAnswer | undefined> {
  // After the login response is on its way: the signing below must not hold it up.
  await new Promise((resolve) => setImmediate(resolve));
  const started = performance.now();
  try {
    const now = deps.now?.() ?? new Date();
    const { sshCertificate, tlsCertificatePem } = login;
    const certs = checkPresentedCerts(
      deps.cas,
      { sshCertificate, tlsCertificatePem },
      { user: login.user, certDer },
      now,
      login.tlsContents,
    );
    const prechecked = { sshCertificate, tlsCertificatePem, certs };
    const device = await deps.inventory.findByCredential(login.credentialId);
    if (!device || device.spec.enroll_status !== 'enrolled') return { prechecked };
    const fields = {
      deviceId: device.metadata.name,
      assetTag: device.spec.asset_tag,
      credentialId: login.credentialId,
    };
    const issued = await reissueWithDevice(deps.cas, certs, fields);
    return { prechecked, presigned: { for: certs, fields, issued }, tookMs: performance.now() - started };
  } catch {
    return undefined;
  }
}

export async function answerLoginDeviceChallenge(
  deps: LoginChallengeDeps,
  client: { address: string },
  req: AnswerLoginDeviceChallengeRequest,
): Promise<AuthenticateSuccess> {
  const started = performance.now();
  const steps = new StepTimes();
  let caller: AuthenticatingCaller | undefined;
  let device: StoredDevice | undefined;
  try {
    const nonce = Buffer.from(required(req.attestationNonce, 'the attestation nonce'));
    // Spent here, before anything else is looked at: a second answer to it finds nothing.
    const binding = deps.loginChallenges.take(nonce);
    caller = { user: binding.user, address: client.address, certDer: binding.certDer };
    const init = required(req.init, 'the device authentication init');
    if (init.credentialId !== binding.credentialId) {
      throw new GatehouseError(
        ErrorCode.DEVICE_ATTESTATION_FAILED,
        'this device challenge was issued for another device credential; log in again',
        { reason: 'challenge_other_credential' },
      );
    }
    const prepared = await binding.prepared;
    steps.lap('presign_wait');
    // Not on the answer's path unless presign_wait says so: done while the client quoted.
    if (prepared?.tookMs !== undefined) steps.set('presigned_before', prepared.tookMs);
    const checked = await checkAuthenticationInit(deps, caller, init, (d) => (device = d), prepared?.prechecked);
    steps.lap('checks');
    return await finishAuthentication(
      deps,
      caller,
      checked,
      nonce,
      req.platformParameters,
      started,
      prepared?.presigned,
      steps,
    );
  } catch (e) {
    // Before the challenge is known there is no user to name: the audit event says so by its reason.
    await recordAuthenticationFailure(deps, caller ?? { user: '', address: client.address }, device, e);
    throw e;
  }
}
