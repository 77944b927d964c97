// Device authentication folded into the login, server half: the client answers the challenge its
// login response carried (login-challenges.ts) with a quote, in one unary call on the
// connection the login used. The same checks as the stream ceremony (authentication.ts) run in
// the same order with the same codes and audit events; what the stream learns from the mTLS
// connection (who calls, with which certificate) comes here from the challenge's binding, and
// the presented certificates must be exactly the ones that login issued.
import { performance } from 'node:perf_hooks';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  AnswerLoginDeviceChallengeRequest,
  AuthenticateDeviceSuccessSchema,
} from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import {
  checkAuthenticationInit,
  finishAuthentication,
  recordAuthenticationFailure,
  type AuthenticatingCaller,
  type AuthenticationDeps,
} from './authentication.ts';
import { required } from './ceremony-stream.ts';
import type { StoredDevice } from './inventory.ts';
import type { LoginDeviceChallenges } from './login-challenges.ts';

export interface LoginChallengeDeps extends AuthenticationDeps {
  loginChallenges: LoginDeviceChallenges;
}

type AuthenticateSuccess = MessageInitShape<typeof AuthenticateDeviceSuccessSchema>;

export async function answerLoginDeviceChallenge(
  deps: LoginChallengeDeps,
  client: { address: string },
  req: AnswerLoginDeviceChallengeRequest,
): Promise<AuthenticateSuccess> {
  const started = performance.now();
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
    const checked = await checkAuthenticationInit(deps, caller, init, (d) => (device = d));
    return await finishAuthentication(deps, caller, checked, nonce, req.platformParameters, started);
  } catch (e) {
    // Before the challenge is known there is no user to name: the audit event says so by its reason.
    await recordAuthenticationFailure(deps, caller ?? { user: '', address: client.address }, device, e);
    throw e;
  }
}
