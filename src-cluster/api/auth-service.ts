// The Connect implementation of gatehouse.v1.AuthService: thin translation between protobuf
// messages and the auth server, with identity and admin checks on every non-public call.
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { AuthServer } from '../auth/auth-server.ts';
import type { Logger } from '../log/logger.ts';
import { guarded } from './guarded.ts';
import { peerKey } from './peer.ts';
import { requireUserCall } from './user-identity.ts';
import type { ResourceAdmin } from './resource-admin.ts';
import type { DeviceInventory } from '../devicetrust/inventory.ts';
import type { ClusterAuthPreferenceResource } from '../resources/cluster-auth-preference.ts';
import type { LoginDeviceTrust } from '../auth/login-device-trust.ts';
import { discardAudit, type AuditEmitter } from '../audit/audit-events.ts';
import { errorMessage, recordRefusal } from '../audit/audit-emit.ts';
import { searchAuditEvents, type AuditSearcher } from '../audit/audit-api.ts';

export interface ApiDeps {
  auth: AuthServer;
  resources: ResourceAdmin;
  devices: DeviceInventory;
  version: string;
  proxyPublicAddr: string;
  log: Logger;
  /** The cluster auth preference in force (read per request). */
  preference: () => ClusterAuthPreferenceResource;
  /** The device trust requirement of a user holding these roles (see login-device-trust.ts). */
  deviceTrustFor: (user: string, roles: string[]) => Promise<LoginDeviceTrust>;
  /** Where admin actions of this API are recorded (device.token.create); discarded when absent. */
  audit?: AuditEmitter;
  /** The audit log SearchAuditEvents reads; the call fails as unavailable when absent. */
  auditLog?: AuditSearcher;
}

export function registerAuthService(deps: ApiDeps) {
  const { auth, resources, devices } = deps;
  const id = (ctx: HandlerContext) => requireUserCall(ctx.values.get(peerKey), deps);
  return (router: ConnectRouter) =>
    router.service(
      AuthService,
      guarded(
        {
          ping: async () => {
            const cap = deps.preference().spec;
            return {
              clusterName: auth.settings.clusterName,
              serverVersion: deps.version,
              auth: { type: cap.type, secondFactor: cap.second_factor },
              deviceTrust: { mode: cap.device_trust.mode, autoEnroll: cap.device_trust.auto_enroll },
              proxyPublicAddr: deps.proxyPublicAddr,
            };
          },
          login: async (req, ctx) => {
            if (!req.user || !req.publicKey)
              throw new GatehouseError(ErrorCode.BAD_REQUEST, 'user and public key are required');
            const certs = await auth.login({
              user: req.user,
              password: req.password,
              otp: req.otp,
              publicKey: req.publicKey,
              ttlSeconds: Number(req.ttlSeconds),
              clientAddress: ctx.values.get(peerKey).address,
            });
            const deviceTrust = await deps.deviceTrustFor(certs.user, certs.roles);
            return {
              sshCertificate: certs.sshCertificate,
              tlsCertificate: certs.tlsCertificate,
              sshUserCaKeys: [auth.cas.sshUser.authorizedKey],
              sshHostCaKeys: [auth.cas.sshHost.authorizedKey],
              tlsHostCaCerts: [auth.cas.tlsHost.material.certPem],
              tlsUserCaCerts: [auth.cas.tlsUser.material.certPem],
              user: certs.user,
              roles: certs.roles,
              logins: certs.logins,
              expiresUnix: BigInt(Math.floor(certs.expires.getTime() / 1000)),
              clusterName: auth.settings.clusterName,
              deviceTrustMode: deviceTrust.mode,
              deviceTrustRequired: deviceTrust.required,
            };
          },
          setPasswordWithToken: async (req) => {
            const r = await auth.setPasswordWithToken(req.token, req.password);
            return { user: r.user, otpUri: r.otpUri ?? '' };
          },
          whoAmI: async (_req, ctx) => {
            const who = await id(ctx);
            const deviceTrust = await deps.deviceTrustFor(who.user, who.roles);
            return {
              user: who.user,
              roles: who.roles,
              logins: who.logins,
              expiresUnix: BigInt(Math.floor(who.notAfter.getTime() / 1000)),
              deviceTrustMode: deviceTrust.mode,
              deviceTrustRequired: deviceTrust.required,
              deviceId: who.device?.deviceId ?? '',
              deviceAssetTag: who.device?.assetTag ?? '',
              deviceCredentialId: who.device?.credentialId ?? '',
            };
          },
          listNodes: async (_req, ctx) => {
            const access = await auth.access.forIdentity(await id(ctx));
            const nodes = (await auth.listNodes()).filter((n) =>
              access.roleSet.canSeeNode({ name: n.metadata.name, labels: n.spec.labels }),
            );
            return {
              nodes: nodes.map((n) => ({
                name: n.metadata.name,
                address: n.spec.address,
                labels: n.spec.labels,
                hostname: n.spec.hostname,
                lastHeartbeatUnix: 0n,
              })),
            };
          },
          getClusterStatus: async (_req, ctx) => {
            const who = await id(ctx);
            await auth.access.requireResourceAccess(who, 'cluster', 'read');
            const counts = await resources.counts();
            return {
              clusterName: auth.settings.clusterName,
              serverVersion: deps.version,
              certAuthorities: [
                ...[auth.cas.sshUser, auth.cas.sshHost].map((ca) => ({
                  type: ca.type,
                  fingerprint: ca.fingerprint,
                  publicKey: ca.authorizedKey,
                })),
                ...[auth.cas.tlsUser, auth.cas.tlsHost].map((ca) => ({
                  type: ca.type,
                  fingerprint: ca.fingerprint,
                  publicKey: ca.material.certPem,
                })),
              ],
              nodeCount: (await auth.listNodes()).length,
              userCount: counts.user ?? 0,
              roleCount: counts.role ?? 0,
            };
          },
          listResources: async (req, ctx) => ({
            resourcesJson: (await resources.list(await id(ctx), req.kind)).map((r) => JSON.stringify(r)),
          }),
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
                t = await devices.createEnrollToken(req.deviceId || req.assetTag);
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
          searchAuditEvents: async (req, ctx) => searchAuditEvents(deps.auditLog, auth.access, await id(ctx), req),
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
        },
        deps.log,
      ),
    );
}
