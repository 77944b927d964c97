// Every handler's errors leave as ConnectErrors carrying our stable code (see errors.ts), for
// any service. Server-streaming handlers (async generators) convert their own errors.
import type { HandlerContext } from '@connectrpc/connect';
import type { Logger } from '../log/logger.ts';
import { toConnectError } from './errors.ts';
import { peerKey } from './peer.ts';

type Handler = (req: unknown, ctx: HandlerContext) => unknown;

function isAsyncGenerator(fn: Handler): boolean {
  return fn.constructor.name === 'AsyncGeneratorFunction';
}

export function guarded<Impl extends object>(impl: Impl, log: Logger): Impl {
  const out: Record<string, Handler> = {};
  for (const [name, fn] of Object.entries(impl as Record<string, Handler>)) {
    out[name] = isAsyncGenerator(fn)
      ? fn
      : async (req, ctx) => {
          try {
            return await fn(req, ctx);
          } catch (e) {
            const err = toConnectError(e);
            log.debug('api call failed', {
              method: name,
              client: ctx.values.get(peerKey).address,
              error: err.rawMessage,
            });
            throw err;
          }
        };
  }
  return out as Impl;
}
