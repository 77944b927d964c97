// The one IPC contract between the renderer and the main process (Electron ipcMain, or the
// browser host's WebSocket). Every request channel is listed here with the zod schema main
// validates its input with and the type of its result; events flow main → renderer only.
// The renderer imports this module for TYPES only (`import type`): it never runs zod or main code.
// What crosses is display data: no private keys, certificates or TPM handles, ever.
import { z } from 'zod';
import type { ErrorCode } from '../../src-shared/errors.ts';

const proxyAddress = z
  .string()
  .trim()
  .min(1)
  .max(300)
  .regex(/^[^\s/]+$/, 'expected HOST or HOST:PORT');
/** One proxy address, or a cluster's several separated by commas (at most 8, as profiles hold). */
const proxyAddressList = z
  .string()
  .trim()
  .min(1)
  .max(8 * 301)
  .regex(/^[^\s/,]+(\s*,\s*[^\s/,]+)*$/, 'expected HOST or HOST:PORT, or several separated by commas');
const name = z.string().min(1).max(253);
const terminalId = z.string().regex(/^t[0-9]+$/);
const dims = { cols: z.number().int().min(2).max(1000), rows: z.number().int().min(1).max(500) };
const gatewayId = z.string().regex(/^g[0-9]+$/, 'a gateway id looks like "g1"');
const localPort = z.number().int().min(1).max(65535);
/** A db user or db name: what PostgreSQL and MySQL accept, minus spaces and NULs (they travel in a header). */
const dbIdentifier = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[^\s\0"'\\]+$/, 'no spaces, quotes or backslashes');

/** Request channels: input schema (validated in main) and result type. */
export const requests = {
  'app.info': { input: z.object({}).strict() },
  'clusters.list': { input: z.object({}).strict() },
  /** Reaches a proxy without trusting it: its cluster name and CA fingerprint, for the user to confirm. */
  'clusters.probe': { input: z.object({ proxy: proxyAddressList }).strict() },
  /**
   * Adds (and pins) a cluster. `caFingerprint`: what the user confirmed from clusters.probe; the
   * add is refused (PROXY_UNTRUSTED) when the proxy now shows another CA.
   */
  'clusters.add': {
    input: z
      .object({
        /** The cluster's proxy address, or its several ("a:3080,b:3080"): the first keys the cluster. */
        proxy: proxyAddressList,
        caFingerprint: z
          .string()
          .regex(/^[0-9a-fA-F:]{64,95}$/, 'a SHA-256 fingerprint')
          .optional(),
      })
      .strict(),
  },
  'clusters.remove': { input: z.object({ proxy: proxyAddress }).strict() },
  'clusters.select': { input: z.object({ proxy: proxyAddress }).strict() },
  'auth.login': {
    input: z
      .object({
        proxy: proxyAddress,
        user: name,
        password: z.string().min(1).max(1024),
        otp: z.string().max(16).optional(),
      })
      .strict(),
  },
  'auth.logout': { input: z.object({ proxy: proxyAddress }).strict() },
  'resources.listServers': { input: z.object({ proxy: proxyAddress }).strict() },
  'resources.listDatabases': { input: z.object({ proxy: proxyAddress }).strict() },
  'gateways.createDb': {
    input: z
      .object({
        proxy: proxyAddress,
        database: name,
        protocol: z.enum(['postgres', 'mysql']),
        dbUser: dbIdentifier,
        dbName: dbIdentifier.optional(),
        port: localPort.optional(),
      })
      .strict(),
  },
  'resources.listApps': { input: z.object({ proxy: proxyAddress }).strict() },
  /** A gateway to an app (HTTP or TCP) on 127.0.0.1; an open one for the same app is returned as is. */
  'gateways.createApp': { input: z.object({ proxy: proxyAddress, app: name, port: localPort.optional() }).strict() },
  /**
   * Opens an HTTP app's gateway in the user's browser at http://localhost:PORT/. Electron opens it
   * itself; the browser host cannot (it has no window of its own), so it answers `opened: false`
   * and the renderer — which is a browser tab there — opens a new tab at `url`.
   */
  'gateways.launchApp': { input: z.object({ gatewayId }).strict() },
  'gateways.list': { input: z.object({}).strict() },
  'gateways.setPort': { input: z.object({ gatewayId, port: localPort }).strict() },
  'gateways.close': { input: z.object({ gatewayId }).strict() },
  /** Opens a terminal running the local psql / mariadb against the gateway; main builds the command. */
  'gateways.runClient': { input: z.object({ gatewayId, ...dims }).strict() },
  'terminals.open': { input: z.object({ proxy: proxyAddress, node: name, login: name, ...dims }).strict() },
  'terminals.resize': { input: z.object({ terminalId, ...dims }).strict() },
  'terminals.close': { input: z.object({ terminalId }).strict() },
  'shell.openExternal': { input: z.object({ url: z.string().url().max(2000) }).strict() },
  /**
   * The "This device" screen: this machine, its TPM (probed once, then cached unless `refresh`),
   * and — with `proxy` and a login there — what that cluster knows about it and the session.
   */
  'device.status': { input: z.object({ proxy: proxyAddress.optional(), refresh: z.boolean().optional() }).strict() },
  /**
   * Enrolls this device in `proxy`'s cluster with a helpdesk token, or (`auto: true`, no token)
   * by auto-enroll; then authenticates the device at once so the session becomes device-trusted
   * without a new login. Progress arrives as `device.enrollProgress` events.
   */
  'device.enroll': {
    input: z
      .object({
        proxy: proxyAddress,
        token: z.string().trim().min(1).max(512).optional(),
        auto: z.boolean().optional(),
      })
      .strict()
      .refine((v) => (v.token !== undefined) !== (v.auto === true), 'give a token, or auto: true'),
  },
  /** The helpdesk's diagnostics (same content as `gate device diagnose`): text and JSON, no secrets. */
  'device.diagnostics': { input: z.object({ proxy: proxyAddress.optional() }).strict() },
  /** The logged-in user's own devices on `proxy`'s cluster, this one marked. */
  'device.myDevices': { input: z.object({ proxy: proxyAddress }).strict() },
} as const;

export type RequestChannel = keyof typeof requests;
export type RequestInput<C extends RequestChannel> = z.input<(typeof requests)[C]['input']>;

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

export interface RequestResults {
  'app.info': AppInfo;
  'clusters.list': ClusterSummary[];
  'clusters.probe': ClusterProbe;
  'clusters.add': ClusterSummary;
  'clusters.remove': null;
  'clusters.select': null;
  'auth.login': SessionInfo;
  'auth.logout': null;
  'resources.listServers': ServerSummary[];
  'resources.listDatabases': DatabaseSummary[];
  'gateways.createDb': DbGatewaySummary;
  'resources.listApps': AppSummary[];
  'gateways.createApp': AppGatewaySummary;
  /** `opened`: main opened the browser; false: the caller opens `url` (browser host). */
  'gateways.launchApp': { url: string; opened: boolean };
  'gateways.list': GatewaySummary[];
  'gateways.setPort': GatewaySummary;
  'gateways.close': null;
  'gateways.runClient': { terminalId: string };
  'terminals.open': { terminalId: string };
  'terminals.resize': null;
  'terminals.close': null;
  'shell.openExternal': null;
  'device.status': ThisDeviceView;
  'device.enroll': EnrollResult;
  'device.diagnostics': DeviceDiagnosticsResult;
  'device.myDevices': MyDeviceView[];
}

/** Events main → renderer. Terminal bytes do NOT travel here: see TerminalStream. */
export interface EventPayloads {
  /** The session for `proxy` expired (or was refused as expired): show the relogin prompt. */
  'auth.expired': { proxy: string };
  /** A terminal ended: exit status, or the error that ended/refused it. */
  /** A lock that cut the session travels as error.details.lock = { message, target } (target e.g. 'User:"alice"'). */
  'terminals.exit': { terminalId: string; exitCode: number | null; signal?: string; error?: IpcError };
  /** A gateway opened, moved port, or its connections / last refusal changed. */
  'gateways.status': GatewaySummary;
  /** A gateway closed (by the user, or because its cluster was logged out of). */
  'gateways.closed': { gatewayId: string };
  /** One enrollment step started, finished or failed (the error is the coded failure of that step). */
  'device.enrollProgress': {
    proxy: string;
    step: EnrollStepName;
    state: 'running' | 'done' | 'failed';
    error?: IpcError;
  };
  /**
   * This device's trust changed under the renderer: enrolled (here or by `gate` in a terminal:
   * main watches the shared enrollment file), a lock cut a session, device authentication ran.
   * The renderer re-reads clusters.list and device.status.
   */
  'device.changed': { proxy?: string; reason: 'enrolled' | 'enrollment-file' | 'lock' | 'authenticated' };
  /** main changed the cluster list by itself (the launcher's add finished or failed): re-read clusters.list. */
  'clusters.changed': { proxy: string };
}
export type EventChannel = keyof EventPayloads;

/** How every error crosses the boundary. `code` is stable; the renderer maps it to words. */
export interface IpcError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: IpcError };

/**
 * A terminal's byte stream: in Electron a MessagePort per terminal, in the browser host the
 * WebSocket (binary frames tagged with the terminal id, src-shared/terminal-frame.ts). Output is
 * raw bytes (UTF-8 possibly split across chunks: xterm.write(Uint8Array) joins them); input is
 * what xterm emits, sent as its UTF-8 bytes.
 */
export interface TerminalStream {
  write(data: string): void;
  onData(listener: (data: Uint8Array) => void): () => void;
  /** Flow control: main stops reading the shell's output (the SSH server waits) until resume(). */
  pause(): void;
  resume(): void;
  /**
   * xterm has parsed `bytes` more of the output (reported in batches): main keeps at most a
   * bounded amount delivered and unparsed (TerminalSession's OUTPUT_IN_FLIGHT_LIMIT).
   */
  parsed(bytes: number): void;
  close(): void;
}

type NamespaceOf<C> = C extends `${infer N}.${string}` ? N : never;
type MethodOf<C, N extends string> = C extends `${N}.${infer M}` ? M : never;
type Call<C extends RequestChannel> = (input: RequestInput<C>) => Promise<IpcResult<RequestResults[C]>>;

/** `clusters.add` becomes `api.clusters.add(input)`: narrow namespaces, one function per channel. */
export type ChannelNamespaces = {
  [N in NamespaceOf<RequestChannel>]: { [M in MethodOf<RequestChannel, N>]: Call<`${N}.${M}` & RequestChannel> };
};

/** What the preload (or the browser bridge) puts on `window.gatehouse`; the renderer's only door. */
export type GatehouseApi = ChannelNamespaces & {
  events: { on<E extends EventChannel>(event: E, listener: (payload: EventPayloads[E]) => void): () => void };
  /** Attaches to an opened terminal's byte stream. */
  terminalStream: { attach(terminalId: string): TerminalStream };
};

export const requestChannels = Object.keys(requests) as RequestChannel[];
