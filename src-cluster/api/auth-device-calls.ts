// AuthService calls for device administration: enroll tokens (and adding a device with one),
// each recorded in the audit log before the token is handed out.
import type { ServiceImpl } from '@connectrpc/connect';
import type { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { ApiDeps, UserCall } from './auth-deps.ts';
import { discardAudit } from '../audit/audit-events.ts';
import { errorMessage, recordRefusal } from '../audit/audit-emit.ts';

type Impl = ServiceImpl<typeof AuthService>;

/** Longest enroll token lifetime a request may ask for (`gatectl devices enroll --ttl`). */
export const MAX_ENROLL_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/** The requested token lifetime in ms, undefined for the default; BAD_REQUEST outside 1 s..7 days. */
export function enrollTokenTtlMs(ttlSeconds: bigint): number | undefined {
  if (ttlSeconds === 0n) return undefined;
  if (ttlSeconds < 1n || ttlSeconds > BigInt(MAX_ENROLL_TOKEN_TTL_SECONDS)) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `enroll token ttl must be 1 to ${MAX_ENROLL_TOKEN_TTL_SECONDS} seconds, got ${ttlSeconds}`,
    );
  }
  return Number(ttlSeconds) * 1000;
}

export function deviceCalls(deps: ApiDeps, id: UserCall): Pick<Impl, 'createDeviceEnrollToken'> {
  const { auth, devices } = deps;
  return {
    createDeviceEnrollToken: async (req, ctx) => {
      const who = await id(ctx);
      const audit = deps.audit ?? discardAudit;
      const target = { device_id: req.deviceId, asset_tag: req.assetTag };
      let t: Awaited<ReturnType<typeof devices.createEnrollToken>>;
      try {
        await auth.access.requireResourceAccess(who, 'device', 'update');
        if (!req.deviceId === !req.assetTag)
          throw new GatehouseError(ErrorCode.BAD_REQUEST, 'give exactly one of device_id and asset_tag');
        if (req.addWithOs) {
          await auth.access.requireResourceAccess(who, 'device', 'create');
          if (!req.assetTag)
            throw new GatehouseError(ErrorCode.BAD_REQUEST, 'add_with_os needs asset_tag (the new device)');
          t = await devices.addWithEnrollToken({
            assetTag: req.assetTag,
            osType: req.addWithOs,
            ekKeyHash: req.addWithEkKeyHash,
          });
          await audit.emit({
            type: 'device.create',
            success: true,
            user: who.user,
            fields: { device_id: t.deviceId, asset_tag: req.assetTag, os_type: req.addWithOs },
          });
        } else {
          t = await devices.createEnrollToken(req.deviceId || req.assetTag, enrollTokenTtlMs(req.ttlSeconds));
        }
      } catch (e) {
        const event = { type: 'device.token.create', success: false, user: who.user, fields: target } as const;
        await recordRefusal(audit, { ...event, message: errorMessage(e) }, deps.log);
        throw e;
      }
      // The token is only handed out once its creation is on record.
      await audit.emit({
        type: 'device.token.create',
        success: true,
        user: who.user,
        fields: {
          device_id: t.deviceId,
          asset_tag: (await devices.get(t.deviceId).catch(() => undefined))?.spec.asset_tag ?? req.assetTag,
          expires: t.expires.toISOString(),
        },
      });
      deps.log.info('device enroll token created', { device: t.deviceId, by: who.user });
      return {
        token: t.token,
        expiresUnix: BigInt(Math.floor(t.expires.getTime() / 1000)),
        deviceId: t.deviceId,
      };
    },
  };
}
