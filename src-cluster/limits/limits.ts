// What an unauthenticated client may cost the daemon, in one place. Each value is a named
// constant with the reason for it; the connection time-outs and the per-source cap can be
// changed in the config (proxy.* / node.*, see README "Limits"), the byte limits cannot.

/** Any API request body. The largest legitimate one is a resource in Create/UpdateResource. */
export const API_READ_MAX_BYTES = 1 << 20;
/**
 * Bodies of the RPCs anyone may call without a certificate: Ping (empty), Login (user,
 * password, OTP, an SSH public key) and SetPasswordWithToken. A few KiB is generous.
 */
export const UNAUTHENTICATED_READ_MAX_BYTES = 8 << 10;
/** One message of a device ceremony stream: collected data, EK certificate, attestation. */
export const CEREMONY_MESSAGE_MAX_BYTES = 64 << 10;
/** Everything a client sends in one device ceremony (an init and one challenge response). */
export const CEREMONY_STREAM_MAX_BYTES = 256 << 10;

/**
 * The one call without a client certificate that carries certificates and a quote (the answer
 * to a login's device challenge): capped like one ceremony message, not like any API body.
 */
export const LOGIN_CHALLENGE_ANSWER_METHOD = 'gatehouse.v1.DeviceTrustService/AnswerLoginDeviceChallenge';

/** HTTP/2 streams one API connection may have open at once (Node's default is 2^32-1). */
export const MAX_CONCURRENT_STREAMS = 100;

/** Limits on a TLS listener (the proxy's, auth's API); defaults below, config proxy.* / auth.*. */
export interface ProxyConnectionLimits {
  /** From accept to a finished TLS handshake. */
  handshakeTimeoutMs: number;
  /** An API connection with no request in flight (and a stream with no traffic) is closed after this. */
  idleTimeoutMs: number;
  /** Connections open at once from one source address. */
  maxConnectionsPerSource: number;
}

/** The RPCs callable without a client certificate, by `service.typeName/method`. */
export const UNAUTHENTICATED_METHODS: ReadonlySet<string> = new Set([
  'gatehouse.v1.AuthService/Ping',
  'gatehouse.v1.AuthService/Login',
  'gatehouse.v1.AuthService/SetPasswordWithToken',
  // The join token is the proof: a service has no certificate yet.
  'gatehouse.v1.ClusterService/Join',
]);

/** User, resource, node and device names: a DNS name's limit, as the issue asks. */
export const NAME_MAX_BYTES = 253;
/** Passwords, one-time codes, tokens: hashing a huge password is CPU the caller did not pay for. */
export const SECRET_MAX_BYTES = 1024;
/** SSH public keys and certificates, PEM X.509 certificates (an RSA-8192 cert is ~3 KiB). */
export const CERTIFICATE_MAX_BYTES = 16 << 10;
/** A whole resource or user as JSON; its description and labels are bounded by the kind's schema. */
export const RESOURCE_JSON_MAX_BYTES = 256 << 10;
/** Every other string field (collected device data, addresses, kinds). */
export const STRING_MAX_BYTES = 1024;
/** Entries of one repeated or map field. */
export const REPEATED_MAX_ITEMS = 1024;

/**
 * Limits per request field, by proto field name. Names not listed get STRING_MAX_BYTES.
 * Field names are the same in every request message that uses them.
 */
export const FIELD_MAX_BYTES: Readonly<Record<string, number>> = {
  user: NAME_MAX_BYTES,
  name: NAME_MAX_BYTES,
  kind: NAME_MAX_BYTES,
  device_id: NAME_MAX_BYTES,
  asset_tag: NAME_MAX_BYTES,
  // A serial is compared with an asset tag (at most 128 characters): longer is never a match.
  serial_number: NAME_MAX_BYTES,
  credential_id: NAME_MAX_BYTES,
  hostname: NAME_MAX_BYTES,
  os_username: NAME_MAX_BYTES,
  password: SECRET_MAX_BYTES,
  otp: SECRET_MAX_BYTES,
  token: SECRET_MAX_BYTES,
  public_key: CERTIFICATE_MAX_BYTES,
  ssh_certificate: CERTIFICATE_MAX_BYTES,
  tls_certificate: CERTIFICATE_MAX_BYTES,
  resource_json: RESOURCE_JSON_MAX_BYTES,
  user_json: RESOURCE_JSON_MAX_BYTES,
  ssh_public_key: CERTIFICATE_MAX_BYTES,
  tls_public_key_pem: CERTIFICATE_MAX_BYTES,
  /** A service's audit event (EmitAuditEvent[s]); service-audit.ts bounds it the same. */
  fields_json: 64 << 10,
};

// Connection limits (defaults of the config fields). Durations are config strings.
/**
 * proxy.handshake_timeout: from accept to a finished TLS handshake. A legitimate client needs
 * one round trip or two; Teleport's proxy gives 5-10 s for its ALPN/TLS handshake reads.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT = '10s';
/**
 * proxy.idle_timeout: an API connection with no request in flight is closed after this. Our
 * own clients close theirs after 30 s idle (src-main/core/cluster-client.ts), so this never
 * cuts a connection a client still means to use.
 */
export const DEFAULT_IDLE_TIMEOUT = '1m';
/**
 * node.login_grace_time: from accept (not from the SSH banner) to a finished authentication,
 * like sshd's LoginGraceTime (120 s there; our clients authenticate in well under a second).
 */
export const DEFAULT_LOGIN_GRACE_TIME = '1m';
/**
 * proxy/node max_connections_per_ip: open connections from one source address. One desktop
 * client holds one API connection plus one per SSH session; an office behind one NAT address
 * may need more (raise it in the config).
 */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 100;
