// AuthService calls that read and write resources (gatectl get/create/rm, users with their
// password or reset token in one transaction). Access checks live in ResourceAdmin.
import type { ServiceImpl } from '@connectrpc/connect';
import type { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import type { ApiDeps, UserCall } from './auth-deps.ts';

type Impl = ServiceImpl<typeof AuthService>;

export function resourceCalls(
  deps: ApiDeps,
  id: UserCall,
): Pick<Impl, 'listResources' | 'getResource' | 'createResource' | 'updateResource' | 'deleteResource' | 'createUser'> {
  const { auth, resources } = deps;
  return {
    listResources: async (req, ctx) => {
      const texts = await resources.listJson(await id(ctx), req.kind);
      if (!req.asJsonArray) return { resourcesJson: texts };
      return { resourcesJsonArray: Buffer.from(`[${texts.join(',')}]`) };
    },
    getResource: async (req, ctx) => ({
      resourceJson: JSON.stringify(await resources.get(await id(ctx), req.kind, req.name)),
    }),
    createResource: async (req, ctx) => {
      const r = await resources.create(await id(ctx), req.resourceJson, req.upsert);
      return { resourceJson: JSON.stringify(r.resource), created: r.created };
    },
    updateResource: async (req, ctx) => ({
      resourceJson: JSON.stringify(await resources.update(await id(ctx), req.resourceJson)),
    }),
    deleteResource: async (req, ctx) => {
      await resources.delete(await id(ctx), req.kind, req.name);
      return {};
    },
    createUser: async (req, ctx) => {
      const who = await id(ctx);
      // The user and its password (or password-set token) are one transaction: a crash in
      // between used to leave users that could neither log in nor be added again.
      let otp: string | undefined;
      let reset: { token: string; expires: Date } | undefined;
      const { resource } = await resources.create(who, req.userJson, false, 'user', async (name) => {
        if (req.password) {
          const w = await auth.passwordWrite(name, req.password);
          otp = w.otpUri;
          return [w.op];
        }
        const w = auth.passwordTokenWrite(name);
        reset = { token: w.token, expires: w.expires };
        return [w.op];
      });
      const r = reset as { token: string; expires: Date } | undefined;
      return {
        userJson: JSON.stringify(resource),
        resetToken: r?.token ?? '',
        resetTokenExpiresUnix: r ? BigInt(Math.floor(r.expires.getTime() / 1000)) : 0n,
        otpUri: otp ?? '',
      };
    },
  };
}
