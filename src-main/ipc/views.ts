// The display data that crosses the IPC contract (src-main/ipc/contract.ts): what the renderer
// shows about clusters, sessions, the device, resources and gateways, and how errors cross.
// Display data only: no private keys, certificates or TPM handles, ever. Types only, so the
// renderer can import it (through contract.ts) without running any main-process code.
import type { ErrorCode } from '../../src-shared/errors.ts';

/** How every error crosses the boundary. `code` is stable; the renderer maps it to words. */
export interface IpcError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export interface AppInfo {
  version: string;
  /** 'electron' in the desktop app, 'browser' under the browser host. */
  host: 'electron' | 'browser';
  platform: string;
}

export interface ClusterSummary {
  /** The cluster's first proxy: it keys the cluster in every other request. */
  proxy: string;
  /** All its proxies, `proxy` first, when it has several (calls and gateways fail over in this order). */
  proxies?: string[];
  clusterName: string;
  /** "off" | "otp": whether the login form asks for a one-time code. */
  secondFactor: string;
  /** SHA-256 of the proxy's CA, pinned on first use. */
  caFingerprint: string;
  current: boolean;
  /** Present when logged in (even if expired). */
  session?: SessionInfo;
  /**
   * Only while the launcher's add of a NEW cluster (browser host --add-cluster) has not finished:
   * the login form shows at once and this row fills in when the add resolves ('connecting': the
   * cluster name and second factor are not known yet), or says why it could not ('failed', with
   * addError). A 'clusters.changed' event tells the renderer to read the list again.
   */
  adding?: 'connecting' | 'failed';
  addError?: IpcError;
}

export interface SessionInfo {
  user: string;
  roles: string[];
  logins: string[];
  /** ISO 8601. */
  validUntil: string;
  expired: boolean;
  /** The session's certificates carry device fields (device authentication succeeded after login). */
  deviceTrusted: boolean;
  /** The trusted device's asset tag, when deviceTrusted. */
  deviceAssetTag?: string;
  /** trusted; not-enrolled (no enrollment of this device in the cluster); not-trusted (enrolled, but this login has no device fields). */
  deviceTrustState: 'trusted' | 'not-enrolled' | 'not-trusted';
  /** The cluster's device trust mode at login: off | optional | required | required-for-humans. */
  deviceTrustMode: string;
  /** The cluster said this user needs a trusted device (cluster mode and roles). */
  deviceTrustRequired: boolean;
  /** This device as the indicator's popover shows it (display data only: no keys or certificates). */
  device?: DeviceDisplay;
  /**
   * When this device is enrolled in the cluster but device authentication after the login
   * failed: the login stands, this says why it is not device-trusted.
   */
  deviceTrustIssue?: { code: ErrorCode; message: string; nextStep: string };
}

export interface DeviceDisplay {
  assetTag: string;
  /** SHA-256 of the TPM attestation key (hex), as enrolled. */
  credentialId: string;
  /** How the TPM was attested at enrollment (ekcert, ekpub), from the local enrollment record. */
  attestationType?: string;
  osType?: string;
  /** ISO time the session's certificates were re-issued with the device fields (trusted only). */
  issuedAt?: string;
}

/** What probing a proxy shows before it is trusted (clusters.probe). */
export interface ClusterProbe {
  proxy: string;
  /** Every proxy address given, canonical, `proxy` first (one entry for a single proxy). */
  proxies: string[];
  clusterName: string;
  /** SHA-256 of the proxy's CA certificate, colon-separated upper-case hex (as `gate login` prints it). */
  caFingerprint: string;
  /**
   * The proxy that presented that CA: the first of `proxies` that answered (the first proxy may be
   * down). Absent when the CA was already pinned, so nothing was read from the network.
   */
  caPresentedBy?: string;
  /** This proxy is already in the app's list (then clusters.add just selects it). */
  known: boolean;
}

/** TPM facts for people. `state` says whether the TPM can be used; the rest says why not / what it is. */
export interface TpmProbeView {
  state: 'present' | 'missing' | 'no-permission' | 'library-missing' | 'error';
  /** The tpm2-tss TCTI used, e.g. device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321. */
  tcti: string;
  /** Why not present, concretely (e.g. "/dev/tpmrm0 does not exist"). */
  reason?: string;
  /** What fixes it (the tss group, the udev rule, the package to install). */
  fix?: string;
  code?: ErrorCode;
  /** When present: TPM_PT_MANUFACTURER as 4 letters (e.g. "IBM", "INTC"), vendor string, firmware version. */
  manufacturer?: string;
  vendor?: string;
  firmwareVersion?: string;
  /** When present: the TPM has an EK certificate in NV. */
  ekCertificate?: boolean;
  /** When present: this device's credential id (SHA-256 of the AK public). */
  credentialId?: string;
}

/** What `proxy`'s cluster knows about this device (AuthService.GetDeviceStatus), for people. */
export interface ClusterDeviceView {
  cluster: string;
  proxy: string;
  registered: boolean;
  enrolled: boolean;
  deviceId?: string;
  /** The enrolled credential, and whether it is this TPM's AK. */
  credentialId?: string;
  credentialMatches?: boolean;
  attestationType?: string;
  /** ISO time. */
  enrolledAt?: string;
  /** "Enroll this device" without a token is offered. */
  autoEnrollAvailable: boolean;
  /** For the helpdesk when not registered: `gatectl devices add --asset-tag TAG --os linux --enroll`. */
  adminCommand: string;
  lock?: { message: string; target: string };
  deviceTrustMode: string;
}

/** The "This device" screen's data. Display data only: no keys, tokens or certificates. */
export interface ThisDeviceView {
  assetTag: string;
  /** Where the serial came from (dmi:product_serial, machine-id, ...) and a note when it is a fallback. */
  assetTagSource: string;
  assetTagNote?: string;
  osType: string;
  /** e.g. "Debian GNU/Linux 12 (bookworm)". */
  osName: string;
  hostname: string;
  tpm: TpmProbeView;
  /** With a login on the asked-for cluster: what it knows about this device; `error` if it could not be asked. */
  cluster?: ClusterDeviceView;
  clusterError?: IpcError;
  /** The local enrollment record for that cluster (this client's hint), if any. */
  localEnrollment?: { deviceId: string; credentialId: string; attestationType: string; enrolledAt: string };
  /** The session on that cluster. */
  session?: { deviceTrusted: boolean; reason?: string; nextStep?: string; validUntil: string };
  /** How long the TPM probe took (ms) and whether it came from the cache. */
  tpmProbeMs: number;
  tpmProbeCached: boolean;
}

/** The steps of enrolling from the app, in order. */
export type EnrollStepName = 'check-tpm' | 'create-ak' | 'activate-credential' | 'quote' | 'authenticate' | 'done';

export interface EnrollResult {
  session: SessionInfo;
  deviceId: string;
  credentialId: string;
  /** Button to Trusted, measured in main (ms). */
  totalMs: number;
}

export interface DeviceDiagnosticsResult {
  /** What "Copy diagnostics" puts on the clipboard (the same text `gate device diagnose` prints). */
  text: string;
  /** The same content as `gate device diagnose --format json` (src-main/core/device-diagnostics.ts). */
  json: Record<string, unknown>;
}

export interface MyDeviceView {
  id: string;
  assetTag: string;
  osType: string;
  enrolled: boolean;
  /** ISO time, absent when never seen. */
  lastSeen?: string;
  /** The device this app runs on. */
  thisDevice: boolean;
}

export interface ServerSummary {
  name: string;
  address: string;
  hostname: string;
  labels: Record<string, string>;
  /** Logins the user may choose on this server (first = default). */
  logins: string[];
}

export type DbProtocol = 'postgres' | 'mysql';

export interface DatabaseSummary {
  name: string;
  protocol: DbProtocol;
  description: string;
  /** host:port as the db service reaches it (informational). */
  uri: string;
  labels: Record<string, string>;
  /** What the roles allow; "*" means any (the dialog then takes free text). */
  allowedDbUsers: string[];
  allowedDbNames: string[];
}

/** "http": a web app (Launch opens the browser); "tcp": any TCP protocol (Connect shows the address). */
export type AppKind = 'http' | 'tcp';

export interface AppSummary {
  name: string;
  kind: AppKind;
  description: string;
  /** The upstream the app service reaches (informational: the gateway is what the user opens). */
  uri: string;
  /** spec.public_addr when the app has one (informational). */
  publicAddr: string;
  labels: Record<string, string>;
}

/** What every local gateway says about itself: where it listens, how it is doing. */
interface GatewayCommon {
  id: string;
  proxy: string;
  localAddress: string;
  localPort: number;
  /** Client connections being relayed now. */
  connections: number;
  /** Why the last connection was refused (a denial, an unreachable upstream...), and when (ISO 8601). */
  lastRefusal?: IpcError & { at: string };
}

/** A gateway to an app: its name and kind, and the URL a browser opens (HTTP apps). */
export interface AppGatewaySummary extends GatewayCommon {
  kind: 'app';
  app: string;
  appKind: AppKind;
  /** http://localhost:PORT/ for HTTP apps; absent for TCP apps (they get localAddress:localPort). */
  url?: string;
}

/** A local gateway as the renderer sees it: where to point a client, and how it is doing. */
export type GatewaySummary = DbGatewaySummary | AppGatewaySummary;

/** A gateway to a database for psql / mariadb. */
export interface DbGatewaySummary extends GatewayCommon {
  kind: 'db';
  /** The db resource in the cluster. */
  database: string;
  protocol: DbProtocol;
  dbUser: string;
  dbName?: string;
  /** The command line the Run button runs (display and copy only: main builds what it runs). */
  clientCommand: string;
}
