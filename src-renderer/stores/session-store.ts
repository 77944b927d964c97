// Clusters and the session on each: what main's profile store knows, plus the form states of
// adding a cluster and logging in. The UI derives its screen from this (no cluster → empty state,
// no session → login, expired → relogin dialog).
import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  AppInfo,
  ClusterProbe,
  ClusterSummary,
  GatehouseApi,
  IpcError,
  SessionInfo,
} from '../../src-main/ipc/contract.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import { normalizeProxyList } from '../clusters/proxy-address.ts';

/** A form's submission: idle, in flight, or failed with an error (or a local validation problem). */
export interface FormState {
  pending: boolean;
  error?: IpcError;
  /** Found before anything was sent (e.g. a malformed proxy address). */
  problem?: string;
}

/** Adding a cluster: the form, plus the probed proxy waiting for the person to confirm its CA. */
export interface AddFormState extends FormState {
  /** Set after "Next": the cluster name and CA fingerprint to confirm with "Trust and add". */
  probe?: ClusterProbe;
}

export interface LoginInput {
  proxy: string;
  user: string;
  password: string;
  otp?: string;
}

export interface SessionState {
  phase: 'loading' | 'ready' | 'failed';
  loadError?: IpcError;
  appInfo?: AppInfo;
  clusters: ClusterSummary[];
  addForm: AddFormState;
  loginForm: FormState;
  /** Switching clusters or logging out. */
  busy: boolean;
  menuError?: IpcError;

  load(): Promise<void>;
  /** Re-reads clusters.list (after an enrollment, or main said the device's trust changed). */
  refresh(): Promise<void>;
  /**
   * Step 1 of adding: reaches the proxy without trusting it (clusters.probe) and keeps what it
   * showed in addForm.probe for the person to confirm. A proxy already in the list is selected.
   */
  probeCluster(rawAddress: string): Promise<ClusterSummary | undefined>;
  /** Step 2, "Trust and add": adds with the confirmed CA fingerprint and selects the cluster. */
  addCluster(probe: ClusterProbe): Promise<ClusterSummary | undefined>;
  /** "Cancel" on the confirmation: back to the address, nothing trusted. */
  cancelProbe(): void;
  selectCluster(proxy: string): Promise<boolean>;
  login(input: LoginInput): Promise<boolean>;
  logout(proxy: string): Promise<boolean>;
  /** Logs out and forgets the cluster and its pinned CA. */
  removeCluster(proxy: string): Promise<boolean>;
  /** main said the session for `proxy` expired (event or a CERT_EXPIRED result). */
  markExpired(proxy: string): void;
  resetForms(): void;
}

export type SessionStore = StoreApi<SessionState>;

export function currentCluster(state: Pick<SessionState, 'clusters'>): ClusterSummary | undefined {
  return state.clusters.find((c) => c.current) ?? state.clusters[0];
}

export function isSessionUsable(session: SessionInfo | undefined): boolean {
  return session !== undefined && !session.expired;
}

const idle: FormState = { pending: false };

export function createSessionStore(api: GatehouseApi): SessionStore {
  return createStore<SessionState>()((set, get) => {
    const refreshList = async (): Promise<IpcError | undefined> => {
      const listed = await api.clusters.list({});
      if (!listed.ok) return listed.error;
      set({ clusters: listed.value });
      return undefined;
    };

    const addAndSelect = async (probe: ClusterProbe): Promise<ClusterSummary | undefined> => {
      set({ addForm: { pending: true, probe } });
      // Every proxy the user gave: main stores them and fails over between them.
      const proxies = probe.proxies.length > 0 ? probe.proxies : [probe.proxy];
      const added = await api.clusters.add({ proxy: proxies.join(','), caFingerprint: probe.caFingerprint });
      if (!added.ok) {
        set({ addForm: { pending: false, error: added.error, probe } });
        return undefined;
      }
      const selected = await api.clusters.select({ proxy: added.value.proxy });
      const listError = selected.ok ? await refreshList() : selected.error;
      if (listError) {
        set({ addForm: { pending: false, error: listError } });
        return undefined;
      }
      set({ addForm: idle, loginForm: idle });
      return added.value;
    };

    return {
      phase: 'loading',
      clusters: [],
      addForm: idle,
      loginForm: idle,
      busy: false,

      async load() {
        set({ phase: 'loading', loadError: undefined });
        // The first screen needs the cluster list only: app.info (version, host) fills in when it comes.
        void api.app.info({}).then((info) => {
          if (info.ok) set({ appInfo: info.value });
        });
        const listed = await api.clusters.list({});
        if (!listed.ok) {
          set({ phase: 'failed', loadError: listed.error });
          return;
        }
        set({ phase: 'ready', clusters: listed.value });
      },

      async refresh() {
        const error = await refreshList();
        if (error) set({ menuError: error });
      },

      async probeCluster(rawAddress) {
        const checked = normalizeProxyList(rawAddress);
        if (!checked.ok) {
          set({ addForm: { pending: false, problem: checked.problem } });
          return undefined;
        }
        set({ addForm: { pending: true } });
        const probed = await api.clusters.probe({ proxy: checked.addresses.join(',') });
        if (!probed.ok) {
          set({ addForm: { pending: false, error: probed.error } });
          return undefined;
        }
        // Already trusted: its CA was confirmed when it was added; adding it again just selects it.
        if (probed.value.known) return addAndSelect(probed.value);
        set({ addForm: { pending: false, probe: probed.value } });
        return undefined;
      },

      async addCluster(probe) {
        return addAndSelect(probe);
      },

      cancelProbe() {
        set({ addForm: idle });
      },

      async selectCluster(proxy) {
        set({ busy: true, menuError: undefined });
        const selected = await api.clusters.select({ proxy });
        const error = selected.ok ? await refreshList() : selected.error;
        set({ busy: false, menuError: error, loginForm: idle });
        return !error;
      },

      async login(input) {
        set({ loginForm: { pending: true } });
        const otp = input.otp?.trim();
        const result = await api.auth.login({
          proxy: input.proxy,
          user: input.user.trim(),
          password: input.password,
          ...(otp ? { otp } : {}),
        });
        if (!result.ok) {
          set({ loginForm: { pending: false, error: result.error } });
          return false;
        }
        const session = result.value;
        set({
          loginForm: idle,
          clusters: get().clusters.map((c) => (c.proxy === input.proxy ? { ...c, session } : c)),
        });
        return true;
      },

      async logout(proxy) {
        set({ busy: true, menuError: undefined });
        const result = await api.auth.logout({ proxy });
        // Logged out or not, the list says what main now believes.
        const listError = await refreshList();
        const error = result.ok ? listError : result.error;
        set({ busy: false, menuError: error, loginForm: idle });
        return !error;
      },

      async removeCluster(proxy) {
        set({ busy: true, menuError: undefined });
        const result = await api.clusters.remove({ proxy });
        const listError = await refreshList();
        const error = result.ok ? listError : result.error;
        set({ busy: false, menuError: error, loginForm: idle });
        return !error;
      },

      markExpired(proxy) {
        set({
          clusters: get().clusters.map((c) =>
            c.proxy === proxy && c.session && !c.session.expired
              ? { ...c, session: { ...c.session, expired: true } }
              : c,
          ),
        });
      },

      resetForms() {
        set({ addForm: idle, loginForm: idle, menuError: undefined });
      },
    };
  });
}

/** The result says the session is over: show the relogin prompt rather than an error. */
export function isSessionError(error: IpcError): boolean {
  return error.code === ErrorCode.CERT_EXPIRED;
}
