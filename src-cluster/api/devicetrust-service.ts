// The Connect implementation of gatehouse.v1.DeviceTrustService: both ceremonies are async
// generators over the request stream (src-cluster/devicetrust/), the answer to a login's device
// challenge one unary call; this file only finds out who is calling and turns errors into
// ConnectErrors carrying our stable code.
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { DeviceTrustService } from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { authenticateDevice } from '../devicetrust/authentication.ts';
import { answerLoginDeviceChallenge, type LoginChallengeDeps } from '../devicetrust/login-challenge-authentication.ts';
import { enrollDevice } from '../devicetrust/enrollment.ts';
import { toConnectError } from './errors.ts';
import { peerKey, requireIdentity } from './peer.ts';

async function* guarded<T>(run: () => AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* run();
  } catch (e) {
    throw toConnectError(e);
  }
}

function caller(ctx: HandlerContext) {
  const peer = ctx.values.get(peerKey);
  const identity = requireIdentity(peer);
  if (!peer.certDer)
    throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, 'this call needs a client certificate; run "gate login" first');
  return { user: identity.user, address: peer.address, certDer: peer.certDer };
}

export function registerDeviceTrustService(deps: LoginChallengeDeps) {
  return (router: ConnectRouter) =>
    router.service(DeviceTrustService, {
      enrollDevice: (requests, ctx) => guarded(() => enrollDevice(deps, caller(ctx), requests)),
      authenticateDevice: (requests, ctx) => guarded(() => authenticateDevice(deps, caller(ctx), requests)),
      // No client certificate needed: the login challenge is the proof (login-challenge-authentication.ts).
      answerLoginDeviceChallenge: async (req, ctx) => {
        try {
          return await answerLoginDeviceChallenge(deps, { address: ctx.values.get(peerKey).address }, req);
        } catch (e) {
          throw toConnectError(e);
        }
      },
    });
}
