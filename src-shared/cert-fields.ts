// Names of the Gatehouse-specific fields in issued certificates. They are part of the
// wire contract (nodes, proxies, stock sshd and later device trust read them): add, never rename.

/** SSH user certificate extensions (stock OpenSSH ignores extensions it does not know). */
export const SSH_EXT_ROLES = 'gatehouse-roles'; // JSON array of role names
export const SSH_EXT_CLUSTER = 'gatehouse-cluster'; // cluster name that issued the cert

/** Default certificate lifetime when neither the client nor a role asks for less. */
export const DEFAULT_CERT_TTL_MS = 12 * 3600_000;

/** The identity `gatehouse start` writes for `gatectl`; it is not a stored user. */
export const BUILTIN_ADMIN_USER = 'gatehouse-admin';

/** ALPN protocol names the proxy routes on. */
export const ALPN_API = 'h2';
export const ALPN_SSH = 'gatehouse-ssh/1';
/** Database routes: the client's plain wire protocol after a one-line JSON routing header. */
export const ALPN_POSTGRES = 'gatehouse-postgres';
export const ALPN_MYSQL = 'gatehouse-mysql';
/** The proxy's connections to a db service (mutual TLS with host certificates). */
export const ALPN_DB_SERVICE = 'gatehouse-db-service/1';
/** Application access (docs/app-access.md): HTTP apps and TCP apps, gateway → proxy. */
export const ALPN_APP = 'gatehouse-app';
export const ALPN_TCP = 'gatehouse-tcp';
/** Proxy → app service (mutual TLS with host certificates). */
export const ALPN_APP_SERVICE = 'gatehouse-app-service/1';
/**
 * Request header carrying the signed JWT the app service adds to every proxied request (lower
 * case, as node:http presents header names). A client-supplied header of this name is dropped.
 */
export const APP_JWT_HEADER = 'gatehouse-jwt-assertion';
/** Where the proxy publishes the JWT signing keys (JWKS), so an app can verify the assertion. */
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * Route fields of a route certificate (AuthService.IssueRouteCertificate): non-critical X.509
 * extensions, value the raw UTF-8 text. A route certificate is a user certificate (user CA, same
 * user, roles and device fields) that names the one resource it may reach; the proxy refuses a
 * database route whose certificate names another route or none.
 */
export const OID_ROUTE_KIND = '1.3.6.1.4.1.59999.1.10';
export const OID_ROUTE_NAME = '1.3.6.1.4.1.59999.1.11';
export const OID_ROUTE_DB_USER = '1.3.6.1.4.1.59999.1.12';
export const OID_ROUTE_DB_NAME = '1.3.6.1.4.1.59999.1.13';

/** The route a route certificate names; dbUser/dbName absent when the client picks at connect time. */
export interface CertRoute {
  kind: string;
  name: string;
  dbUser?: string;
  dbName?: string;
}

/**
 * Device fields, added when a login is re-issued after device authentication (the certificates
 * are otherwise identical: same key, principals, roles and expiry). Their presence is what
 * "device-trusted" means to nodes and the proxy.
 * SSH: user certificate extensions (value: the UTF-8 text).
 * X.509: non-critical extensions under Gatehouse's private arc (value: the UTF-8 text, raw).
 */
export const SSH_EXT_DEVICE_ID = 'gatehouse-device-id';
export const SSH_EXT_DEVICE_ASSET_TAG = 'gatehouse-device-asset-tag';
export const SSH_EXT_DEVICE_CREDENTIAL_ID = 'gatehouse-device-credential-id';
export const OID_DEVICE_ID = '1.3.6.1.4.1.59999.1.2';
export const OID_DEVICE_ASSET_TAG = '1.3.6.1.4.1.59999.1.3';
export const OID_DEVICE_CREDENTIAL_ID = '1.3.6.1.4.1.59999.1.4';

/** The device a certificate was issued for, as read back from either certificate. */
export interface DeviceFields {
  deviceId: string;
  assetTag: string;
  credentialId: string;
}

/** Where each device field lives in an SSH user certificate and in an X.509 client certificate. */
export const SSH_DEVICE_EXTENSIONS: Readonly<Record<keyof DeviceFields, string>> = {
  deviceId: SSH_EXT_DEVICE_ID,
  assetTag: SSH_EXT_DEVICE_ASSET_TAG,
  credentialId: SSH_EXT_DEVICE_CREDENTIAL_ID,
};
export const X509_DEVICE_OIDS: Readonly<Record<keyof DeviceFields, string>> = {
  deviceId: OID_DEVICE_ID,
  assetTag: OID_DEVICE_ASSET_TAG,
  credentialId: OID_DEVICE_CREDENTIAL_ID,
};

/**
 * The device fields of a certificate, read by name (extension name or OID) through `get`:
 * all three, or undefined — a partial set is not device-trusted.
 */
export function readDeviceFields(
  names: Readonly<Record<keyof DeviceFields, string>>,
  get: (name: string) => string | undefined,
): DeviceFields | undefined {
  const deviceId = get(names.deviceId);
  const assetTag = get(names.assetTag);
  const credentialId = get(names.credentialId);
  return deviceId && assetTag && credentialId ? { deviceId, assetTag, credentialId } : undefined;
}

/**
 * The device fields an SSH user certificate carries, if any (all three or it is not device-trusted).
 * Here, next to the extension names, because the authorizer, the lock view and the node all read
 * them and none of those may depend on the auth server's certificate issuing code.
 */
export function sshDeviceFields(cert: {
  readonly extensions: Readonly<Record<string, string>>;
}): DeviceFields | undefined {
  return readDeviceFields(SSH_DEVICE_EXTENSIONS, (name) => cert.extensions[name]);
}

/** True when any device field is present at all (a certificate that must not be re-issued again). */
export function hasAnyDeviceField(
  names: Readonly<Record<keyof DeviceFields, string>>,
  get: (name: string) => string | undefined,
): boolean {
  return Object.values(names).some((name) => get(name) !== undefined);
}
