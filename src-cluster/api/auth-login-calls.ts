// AuthService calls about who the caller is: ping (public), login and password set-up (public,
// rate limited by auth), whoAmI. Split from auth-service.ts by concern; see that file for the whole.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import type { LoginDeviceChallengeSchema } from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import type { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { peerKey } from './peer.ts';
import type { ApiDeps, UserCall } from './auth-deps.ts';
import type { ClientCertContents } from '../auth/x509.ts';

type Impl = ServiceImpl<typeof AuthService>;

/**
 * The device challenge a login carries (see devicetrust/login-challenges.ts): only when the
 * client named the credential of its enrollment and device trust is not off in the cluster.
 */
function loginDeviceChallenge(
  deps: ApiDeps,
  login: {
    user: string;
    sshCertificate: string;
    tlsCertificate: string;
    tlsContents?: ClientCertContents;
    credentialId: string;
    mode: string;
  },
): MessageInitShape<typeof LoginDeviceChallengeSchema> | undefined {
  if (!deps.issueLoginDeviceChallenge || !login.credentialId || login.mode === 'off') return undefined;
  const issued = deps.issueLoginDeviceChallenge({
    user: login.user,
    sshCertificate: login.sshCertificate,
    tlsCertificatePem: login.tlsCertificate,
    ...(login.tlsContents ? { tlsContents: login.tlsContents } : {}),
    credentialId: login.credentialId,
  });
  return {
    attestationNonce: issued.nonce,
    pcrs: issued.pcrs,
    expiresUnix: BigInt(Math.floor(issued.expiresAt.getTime() / 1000)),
  };
}

export function loginCalls(
  deps: ApiDeps,
  id: UserCall,
): Pick<Impl, 'ping' | 'login' | 'setPasswordWithToken' | 'whoAmI'> {
  const { auth } = deps;
  return {
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
      const deviceChallenge = loginDeviceChallenge(deps, {
        user: certs.user,
        sshCertificate: certs.sshCertificate,
        tlsCertificate: certs.tlsCertificate,
        tlsContents: certs.tlsContents,
        credentialId: req.deviceCredentialId,
        mode: deviceTrust.mode,
      });
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
        ...(deviceChallenge ? { deviceChallenge } : {}),
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
  };
}
