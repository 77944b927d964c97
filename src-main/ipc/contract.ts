// The one IPC contract between the renderer and the main process (Electron ipcMain, or the
// browser host's WebSocket). Every request channel is listed here with the zod schema main
// validates its input with and the type of its result; events flow main → renderer only.
// The renderer imports this module for TYPES only (`import type`): it never runs zod or main code.
// What crosses is display data: no private keys, certificates or TPM handles, ever.
import { z } from 'zod';
import type {
  AppGatewaySummary,
  AppInfo,
  AppSummary,
  ClusterProbe,
  ClusterSummary,
  DatabaseSummary,
  DbGatewaySummary,
  DeviceDiagnosticsResult,
  EnrollResult,
  EnrollStepName,
  GatewaySummary,
  IpcError,
  MyDeviceView,
  ServerSummary,
  SessionInfo,
  ThisDeviceView,
} from './views.ts';

// The display types are declared in views.ts; the contract is where the renderer imports them from.
export type {
  AppGatewaySummary,
  AppInfo,
  AppKind,
  AppSummary,
  ClusterDeviceView,
  ClusterProbe,
  ClusterSummary,
  DatabaseSummary,
  DbGatewaySummary,
  DbProtocol,
  DeviceDiagnosticsResult,
  DeviceDisplay,
  EnrollResult,
  EnrollStepName,
  GatewaySummary,
  IpcError,
  MyDeviceView,
  ServerSummary,
  SessionInfo,
  ThisDeviceView,
  TpmProbeView,
} from './views.ts';

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
