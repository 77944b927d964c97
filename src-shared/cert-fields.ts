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
