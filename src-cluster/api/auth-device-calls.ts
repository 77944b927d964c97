// AuthService calls for the device inventory: the rows of `gatectl devices ls`, and enroll
// tokens, an admin's (for a device, or adding a device with one) and a user's own auto-enroll
// token (auto-enroll.ts), each recorded in the audit log before the token is handed out, and
// each refusal too.
import type { ServiceImpl } from '@connectrpc/connect';
import type { AuthService, CreateDeviceEnrollTokenRequest } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { ApiDeps, UserCall } from './auth-deps.ts';
import { discardAudit } from '../audit/audit-events.ts';
import { errorMessage, recordRefusal } from '../audit/audit-emit.ts';
import type { EnrollToken } from '../devicetrust/inventory.ts';
import { createAutoEnrollToken } from './auto-enroll.ts';
import { policyOf } from '../devicetrust/attestation-policy.ts';
import { deviceRow, encodeDeviceRows } from '../devicetrust/device-rows.ts';

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

export function deviceCalls(deps: ApiDeps, id: UserCall): Pick<Impl, 'createDeviceEnrollToken' | 'listDeviceRows'> {
  const { devices } = deps;
  return {
    listDeviceRows: async (_req, ctx) => {
      await deps.auth.access.requireResourceAccess(await id(ctx), 'device', 'list');
      // The policy in force now, as device authentication would apply it.
      const policy = policyOf(deps.preference().spec.device_trust);
      const now = new Date();
      return { rowsJson: encodeDeviceRows((await devices.list()).map((d) => deviceRow(d, policy, now))) };
    },
    createDeviceEnrollToken: async (req, ctx) => {
      const who = await id(ctx);
      const audit = deps.audit ?? discardAudit;
      const auto = req.autoEnrollDeviceData !== undefined;
      const target = auto
        ? {
            asset_tag: req.autoEnrollDeviceData?.serialNumber ?? '',
            os_type: req.autoEnrollDeviceData?.osType ?? '',
            auto_enroll: true,
          }
        : { device_id: req.deviceId, asset_tag: req.assetTag };
      let t: Awaited<ReturnType<typeof devices.createEnrollToken>>;
      try {
        if (auto) {
          // No admin rights: the admin's registration of this device is the approval.
          t = await createAutoEnrollToken(deps, {
            deviceData: req.autoEnrollDeviceData,
            deviceId: req.deviceId,
            assetTag: req.assetTag,
          });
        } else {
          t = await adminEnrollToken(deps, who, req);
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
          ...(auto ? { auto_enroll: true } : {}),
        },
      });
      deps.log.info('device enroll token created', { device: t.deviceId, by: who.user, auto_enroll: auto });
      return {
        token: t.token,
        expiresUnix: BigInt(Math.floor(t.expires.getTime() / 1000)),
        deviceId: t.deviceId,
      };
    },
  };
}

/** The admin path: a token for a named device, or a new device with its token (add_with_os). */
async function adminEnrollToken(
  deps: ApiDeps,
  who: Awaited<ReturnType<UserCall>>,
  req: CreateDeviceEnrollTokenRequest,
): Promise<EnrollToken> {
  const { auth, devices } = deps;
  const audit = deps.audit ?? discardAudit;
  await auth.access.requireResourceAccess(who, 'device', 'update');
  if (!req.deviceId === !req.assetTag)
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'give exactly one of device_id and asset_tag');
  if (!req.addWithOs) return devices.createEnrollToken(req.deviceId || req.assetTag, enrollTokenTtlMs(req.ttlSeconds));
  await auth.access.requireResourceAccess(who, 'device', 'create');
  if (!req.assetTag) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'add_with_os needs asset_tag (the new device)');
  const t = await devices.addWithEnrollToken({
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
  return t;
}
