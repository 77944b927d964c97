// What the AuthService calls are built from, and the one way each finds its caller; in a file of
// its own so the per-concern call files and auth-service.ts can share it without importing each other.
import type { HandlerContext } from '@connectrpc/connect';
import type { AuthServer } from '../auth/auth-server.ts';
import type { Logger } from '../log/logger.ts';
import type { requireUserCall } from './user-identity.ts';
import type { ResourceAdmin } from './resource-admin.ts';
import type { DeviceInventory } from '../devicetrust/inventory.ts';
import type { ClusterAuthPreferenceResource } from '../resources/cluster-auth-preference.ts';
import type { LoginDeviceTrust } from '../auth/login-device-trust.ts';
import type { AuditEmitter } from '../audit/audit-events.ts';
import type { AuditSearcher } from '../audit/audit-api.ts';
import type { IssuedLoginChallenge } from '../devicetrust/login-challenges.ts';
import type { ChallengedLogin } from '../devicetrust/login-challenge-authentication.ts';

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
  /**
   * A device challenge for a login whose request named a device credential (answered through
   * DeviceTrustService.AnswerLoginDeviceChallenge); absent: logins carry none and devices use
   * the AuthenticateDevice stream.
   */
  issueLoginDeviceChallenge?: (login: ChallengedLogin) => IssuedLoginChallenge;
}

/** The authenticated user of a call (locks and the admin identity checked): see user-identity.ts. */
export type UserCall = (ctx: HandlerContext) => ReturnType<typeof requireUserCall>;
