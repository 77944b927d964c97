// The Connect implementation of gatehouse.v1.DeviceTrustService: both ceremonies are async
// generators over the request stream (src-cluster/devicetrust/); this file only finds out who
// is calling and turns errors into ConnectErrors carrying our stable code.
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { DeviceTrustService } from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { authenticateDevice, type AuthenticationDeps } from '../devicetrust/authentication.ts';
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

export function registerDeviceTrustService(deps: AuthenticationDeps) {
  return (router: ConnectRouter) =>
    router.service(DeviceTrustService, {
      enrollDevice: (requests, ctx) => guarded(() => enrollDevice(deps, caller(ctx), requests)),
      authenticateDevice: (requests, ctx) => guarded(() => authenticateDevice(deps, caller(ctx), requests)),
    });
}
