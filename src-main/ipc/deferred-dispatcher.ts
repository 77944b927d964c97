// A dispatcher that exists before the services it dispatches to. The launch path shows the window
// (Electron) or prints the URL (browser host) first and composes the services afterwards, while the
// renderer is still loading: a transport can be wired to this at once, and each call waits for the
// real dispatcher only as long as the services are not there yet. Once they are, calls go straight
// through (one resolved await).
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { IpcDispatcher } from './dispatcher.ts';
import { toIpcError, type IpcErrorLog } from './ipc-errors.ts';

export interface DeferredDispatcher extends IpcDispatcher {
  /** True once the real dispatcher is there (the services are composed). */
  readonly ready: boolean;
}

/**
 * `pending` resolves with the real dispatcher, or rejects when the services could not start:
 * every call then fails with that error (its stable code when it is a GatehouseError).
 */
export function deferredDispatcher(pending: Promise<IpcDispatcher>, log: IpcErrorLog): DeferredDispatcher {
  let real: IpcDispatcher | undefined;
  const settled = pending.then((d) => (real = d));
  // The failure is reported through invoke(); an unobserved rejection must not end the process.
  settled.catch(() => undefined);

  return {
    get ready() {
      return real !== undefined;
    },

    async invoke(channel, rawInput) {
      try {
        return (real ?? (await settled)).invoke(channel, rawInput);
      } catch (e) {
        return { ok: false, error: toIpcError(e, log, { channel: String(channel).slice(0, 100) }) };
      }
    },

    onEvent(listener) {
      if (real) return real.onEvent(listener);
      // Subscribes when the services are there, unless unsubscribed before.
      let off: (() => void) | undefined;
      let cancelled = false;
      settled.then(
        (d) => {
          if (!cancelled) off = d.onEvent(listener);
        },
        () => undefined,
      );
      return () => {
        cancelled = true;
        off?.();
      };
    },

    attachTerminal(...args: Parameters<IpcDispatcher['attachTerminal']>) {
      // No terminal can exist before the services that open them.
      if (!real) throw new GatehouseError(ErrorCode.NOT_FOUND, `no terminal ${String(args[0])}: the app is starting`);
      return real.attachTerminal(...args);
    },
  };
}
