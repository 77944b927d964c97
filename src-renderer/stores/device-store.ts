// The "This device" screen's data: this machine and its TPM, what the current cluster knows about
// it, the user's own devices, and an enrollment in progress (its steps follow main's
// device.enrollProgress events). Main does the work (TPM, tokens, certificates); this store only
// asks and remembers the display data it gets back.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  EnrollResult,
  EnrollStepName,
  EventPayloads,
  GatehouseApi,
  IpcError,
  MyDeviceView,
  ThisDeviceView,
} from '../../src-main/ipc/contract.ts';

export type StepState = 'pending' | 'running' | 'done' | 'failed';

/** The steps main reports, in the order it runs them. */
export const ENROLL_STEPS: readonly EnrollStepName[] = [
  'check-tpm',
  'create-ak',
  'activate-credential',
  'quote',
  'authenticate',
  'done',
];

export interface EnrollState {
  phase: 'idle' | 'running' | 'done' | 'failed';
  /** Which kind of enrollment: the token box or the auto-enroll button. */
  method?: 'token' | 'auto';
  steps: Array<{ name: EnrollStepName; state: StepState }>;
  error?: IpcError;
  result?: EnrollResult;
}

/** What was just copied (the "Copied" feedback next to its button); cleared by the next copy. */
export type CopiedWhat = 'asset-tag' | 'diagnostics' | 'command';

export interface DeviceState {
  /** The cluster the screen shows (undefined: the device only, no cluster asked). */
  proxy?: string;
  loading: boolean;
  status?: ThisDeviceView;
  statusError?: IpcError;
  myDevices?: MyDeviceView[];
  myDevicesError?: IpcError;
  enroll: EnrollState;
  copied?: CopiedWhat;
  copyError?: IpcError | string;

  /** Reads device.status (and my devices when logged in); `refresh` re-probes the TPM. */
  load(proxy: string | undefined, options?: { refresh?: boolean; loggedIn?: boolean }): Promise<void>;
  /** Enrolls with a token or by auto-enroll; true when the device is enrolled and the session trusted. */
  startEnroll(proxy: string, how: { token: string } | { auto: true }): Promise<boolean>;
  handleProgress(payload: EventPayloads['device.enrollProgress']): void;
  /** Fetches the diagnostics text and hands it to `writeText` (the clipboard). */
  copyDiagnostics(writeText: (text: string) => Promise<void>): Promise<boolean>;
  /** Copies display text the screen already has (asset tag, admin command). */
  copyText(what: CopiedWhat, text: string, writeText: (text: string) => Promise<void>): Promise<boolean>;
  resetEnroll(): void;
}

export type DeviceStore = StoreApi<DeviceState>;

export interface DeviceStoreDeps {
  api: GatehouseApi;
  /** After an enrollment: re-read clusters.list so the indicator and session show Trusted. */
  onEnrolled(proxy: string): Promise<void>;
}

const pendingSteps = (): EnrollState['steps'] => ENROLL_STEPS.map((name) => ({ name, state: 'pending' }));
const idleEnroll: EnrollState = { phase: 'idle', steps: pendingSteps() };

const clipboardProblem = (err: unknown): string =>
  `Could not copy to the clipboard (${err instanceof Error ? err.message : String(err)}); select the text and copy it.`;

export function createDeviceStore({ api, onEnrolled }: DeviceStoreDeps): DeviceStore {
  // A load answered after a newer one started (another cluster, a refresh) must not win.
  let loadSeq = 0;

  return createStore<DeviceState>()((set, get) => {
    const setStep = (name: EnrollStepName, state: StepState) =>
      set({
        enroll: { ...get().enroll, steps: get().enroll.steps.map((s) => (s.name === name ? { name, state } : s)) },
      });

    return {
      loading: false,
      enroll: idleEnroll,

      async load(proxy, { refresh = false, loggedIn = proxy !== undefined } = {}) {
        const seq = ++loadSeq;
        const switched = proxy !== get().proxy;
        set({
          proxy,
          loading: true,
          ...(switched ? { status: undefined, myDevices: undefined, enroll: idleEnroll, copied: undefined } : {}),
        });
        const [status, mine] = await Promise.all([
          api.device.status({ ...(proxy ? { proxy } : {}), ...(refresh ? { refresh: true } : {}) }),
          proxy && loggedIn ? api.device.myDevices({ proxy }) : Promise.resolve(undefined),
        ]);
        if (seq !== loadSeq) return;
        set({
          loading: false,
          ...(status.ok ? { status: status.value, statusError: undefined } : { statusError: status.error }),
          ...(mine === undefined
            ? { myDevices: undefined, myDevicesError: undefined }
            : mine.ok
              ? { myDevices: mine.value, myDevicesError: undefined }
              : { myDevicesError: mine.error }),
        });
      },

      async startEnroll(proxy, how) {
        if (get().enroll.phase === 'running') return false;
        const method = 'token' in how ? 'token' : 'auto';
        set({ enroll: { phase: 'running', method, steps: pendingSteps() } });
        const result = await api.device.enroll({
          proxy,
          ...('token' in how ? { token: how.token.trim() } : { auto: true }),
        });
        if (!result.ok) {
          const failedStep = result.error.details?.step;
          const steps = get().enroll.steps.map((s) =>
            s.state === 'running' || s.name === failedStep ? { ...s, state: 'failed' as const } : s,
          );
          set({ enroll: { phase: 'failed', method, steps, error: result.error } });
          return false;
        }
        set({
          enroll: {
            phase: 'done',
            method,
            steps: get().enroll.steps.map((s) => ({ ...s, state: 'done' as const })),
            result: result.value,
          },
        });
        await Promise.all([onEnrolled(proxy), get().load(proxy, { loggedIn: true })]);
        return true;
      },

      handleProgress({ proxy, step, state }) {
        // Events of another cluster's enrollment, or of one this screen did not start, are not ours.
        if (proxy !== get().proxy || get().enroll.phase !== 'running') return;
        setStep(step, state);
      },

      async copyDiagnostics(writeText) {
        set({ copied: undefined, copyError: undefined });
        const proxy = get().proxy;
        const result = await api.device.diagnostics(proxy ? { proxy } : {});
        if (!result.ok) {
          set({ copyError: result.error });
          return false;
        }
        return get().copyText('diagnostics', result.value.text, writeText);
      },

      async copyText(what, text, writeText) {
        set({ copied: undefined, copyError: undefined });
        try {
          await writeText(text);
        } catch (err) {
          set({ copyError: clipboardProblem(err) });
          return false;
        }
        set({ copied: what });
        return true;
      },

      resetEnroll() {
        if (get().enroll.phase !== 'running') set({ enroll: idleEnroll });
      },
    };
  });
}
