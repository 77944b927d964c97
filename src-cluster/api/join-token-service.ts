// The Connect implementation of gatehouse.v1.JoinTokenService: admins create, list and remove
// join tokens. Authorized like every resource kind (kind "token", verbs create/list/delete: the
// editor preset role has them), and each change is on record before the caller hears of it.
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { JoinTokenService } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import type { AuthServer } from '../auth/auth-server.ts';
import type { AuditEmitter } from '../audit/audit-events.ts';
import { errorMessage, recordRefusal } from '../audit/audit-emit.ts';
import type { JoinTokenRecord, JoinTokenStore } from '../join/join-tokens.ts';
import type { Logger } from '../log/logger.ts';
import { guarded } from './guarded.ts';
import { peerKey } from './peer.ts';
import { requireUserCall } from './user-identity.ts';

/** The resource kind role rules name to grant join token management. */
export const JOIN_TOKEN_RESOURCE_KIND = 'token';

export interface JoinTokenServiceDeps {
  auth: AuthServer;
  tokens: JoinTokenStore;
  audit: AuditEmitter;
  log: Logger;
}

export function joinTokenInfo(r: JoinTokenRecord) {
  return {
    id: r.id,
    roles: r.roles,
    expiresUnix: BigInt(Math.floor(Date.parse(r.expires) / 1000)),
    singleUse: r.single_use,
    createdBy: r.created_by,
    createdUnix: BigInt(Math.floor(Date.parse(r.created) / 1000)),
    uses: r.uses,
  };
}

export function registerJoinTokenService(deps: JoinTokenServiceDeps) {
  const { auth, tokens, audit, log } = deps;
  const caller = async (ctx: HandlerContext, verb: 'create' | 'list' | 'delete') => {
    const who = await requireUserCall(ctx.values.get(peerKey), deps);
    await auth.access.requireResourceAccess(who, JOIN_TOKEN_RESOURCE_KIND, verb);
    return who;
  };
  return (router: ConnectRouter) =>
    router.service(
      JoinTokenService,
      guarded(
        {
          createJoinToken: async (req, ctx) => {
            const who = await caller(ctx, 'create');
            const { token, record } = await tokens.create({
              roles: req.roles,
              ttlMs: Number(req.ttlSeconds) * 1000,
              multiUse: req.multiUse,
              createdBy: who.user,
            });
            const fields = {
              token_id: record.id,
              roles: record.roles,
              expires: record.expires,
              single_use: record.single_use,
            };
            try {
              await audit.emit({ type: 'join.token.create', success: true, user: who.user, fields });
            } catch (e) {
              // Not on record, so not handed out: the token must not work either.
              await tokens.delete(record.id).catch(() => undefined);
              throw e;
            }
            log.info('join token created', { id: record.id, roles: record.roles.join(','), by: who.user });
            return { token, info: joinTokenInfo(record) };
          },
          listJoinTokens: async (_req, ctx) => {
            await caller(ctx, 'list');
            return { tokens: (await tokens.list()).map(joinTokenInfo) };
          },
          deleteJoinToken: async (req, ctx) => {
            const who = await caller(ctx, 'delete');
            try {
              await tokens.delete(req.id);
            } catch (e) {
              const event = {
                type: 'join.token.delete',
                success: false,
                user: who.user,
                message: errorMessage(e),
              } as const;
              await recordRefusal(audit, { ...event, fields: { token_id: req.id.slice(0, 64) } }, log);
              throw e;
            }
            await audit.emit({
              type: 'join.token.delete',
              success: true,
              user: who.user,
              fields: { token_id: req.id },
            });
            log.info('join token removed', { id: req.id, by: who.user });
            return {};
          },
        },
        log,
      ),
    );
}
