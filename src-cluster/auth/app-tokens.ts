// The identity an app upstream sees: a JWT (header Gatehouse-Jwt-Assertion) signed with the
// cluster's `jwt` authority, and the JWKS document that lets the app verify it
// (docs/app-access.md "Identity for the upstream"). Signing and key ids are jose's (SignJWT,
// RFC 7638 thumbprints), not hand-written: a JOSE mistake here is an identity forgery upstream.
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWK } from 'jose';
import { BUILTIN_ADMIN_USER, type DeviceFields } from '../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { AppResource } from '../resources/app.ts';
import { PRINCIPAL_FIELDS } from '../resources/role-principals.ts';
import { userTraits, type UserResource } from '../resources/user.ts';
import type { JwtAuthority } from './authorities.ts';
import { appRouteProblem } from './cert-route.ts';
import { forwardedUserIdentity } from './forwarded-user.ts';

export const APP_TOKEN_ALG = 'ES256';
/** A token lives 10 minutes (never past the certificate): app services cache it for 80% of that. */
export const APP_TOKEN_TTL_MS = 10 * 60_000;

/** What a token says about the user, besides the issuer and times. */
export interface AppTokenSubject {
  user: string;
  roles: readonly string[];
  /** From the user record: logins, db_users, db_names, ... (each a list of strings). */
  traits: Readonly<Record<string, readonly string[]>>;
  /** Present when the certificate carries all three device fields. */
  device?: DeviceFields;
  /** The app's spec.uri: the token's audience. */
  audience: string;
  /** The token never outlives the certificate it was issued for. */
  certNotAfter: Date;
}

export interface SignedAppToken {
  jwt: string;
  expires: Date;
}

/** Signs app tokens and publishes the key; one per auth server, over the stored `jwt` authority. */
export class AppTokenSigner {
  #kid: Promise<string> | undefined;

  constructor(
    private readonly key: JwtAuthority,
    /** `iss`: the cluster name. */
    private readonly issuer: string,
  ) {}

  /** The signing key's id: its RFC 7638 thumbprint, stable for as long as the key is. */
  keyId(): Promise<string> {
    this.#kid ??= calculateJwkThumbprint(this.key.publicKey, 'sha256');
    return this.#kid;
  }

  async sign(subject: AppTokenSubject, now = Date.now()): Promise<SignedAppToken> {
    const iat = Math.floor(now / 1000);
    const exp = Math.min(iat + APP_TOKEN_TTL_MS / 1000, Math.floor(subject.certNotAfter.getTime() / 1000));
    if (exp <= iat) throw new GatehouseError(ErrorCode.CERT_EXPIRED, 'the user certificate has expired; log in again');
    const jwt = await new SignJWT({
      username: subject.user,
      roles: [...subject.roles],
      traits: Object.fromEntries(Object.entries(subject.traits).map(([k, v]) => [k, [...v]])),
      device_trusted: subject.device !== undefined,
      ...(subject.device ? { device_id: subject.device.deviceId } : {}),
    })
      .setProtectedHeader({ alg: APP_TOKEN_ALG, kid: await this.keyId(), typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(subject.user)
      .setAudience(subject.audience)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .sign(this.key.privateKey);
    return { jwt, expires: new Date(exp * 1000) };
  }

  /**
   * The JWKS document: every key a current token may be signed with. One key today; a rotation
   * would list the previous key here until the tokens it signed (10 min at most) have expired.
   */
  async jwks(): Promise<{ keys: JWK[] }> {
    const jwk = await exportJWK(this.key.publicKey);
    return { keys: [{ ...jwk, kid: await this.keyId(), alg: APP_TOKEN_ALG, use: 'sig' }] };
  }
}

export interface AppTokenDeps {
  signer: AppTokenSigner;
  userCaPems(): readonly string[];
  findApp(name: string): Promise<AppResource | undefined>;
  /** The stored user (traits); undefined for the builtin admin and for users that are gone. */
  findUser(name: string): Promise<UserResource | undefined>;
}

/** Every trait field, empty for the builtin admin (which has no user record). */
function traitsOf(user: UserResource | undefined): Record<string, string[]> {
  if (user) return userTraits(user);
  return Object.fromEntries(PRINCIPAL_FIELDS.map((field) => [field, []]));
}

/**
 * ClusterService.SignAppToken: the token for the user of `userCertPem` (an app route certificate
 * for `appName`) on that app. The identity comes from the certificate alone, the traits from the
 * user record, the audience from the app's spec.uri.
 */
export async function issueAppToken(
  deps: AppTokenDeps,
  userCertPem: string,
  appName: string,
  now = Date.now(),
): Promise<SignedAppToken> {
  const identity = forwardedUserIdentity(userCertPem, deps.userCaPems(), now);
  const routeProblem = appRouteProblem(identity.route, appName);
  if (routeProblem) throw new GatehouseError(ErrorCode.ACCESS_DENIED, routeProblem);
  const app = await deps.findApp(appName);
  if (!app) throw new GatehouseError(ErrorCode.APP_NOT_FOUND, `app "${appName}" not found`, { app: appName });
  const user = await deps.findUser(identity.user);
  if (!user && identity.user !== BUILTIN_ADMIN_USER) {
    throw new GatehouseError(ErrorCode.ACCESS_DENIED, `user "${identity.user}" no longer exists`);
  }
  return deps.signer.sign(
    {
      user: identity.user,
      roles: identity.roles,
      traits: traitsOf(user),
      ...(identity.device ? { device: identity.device } : {}),
      audience: app.spec.uri,
      certNotAfter: identity.notAfter,
    },
    now,
  );
}
