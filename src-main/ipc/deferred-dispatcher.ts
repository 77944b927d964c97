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
 * What a launcher can answer before the services exist (issue 16: the first screen must not wait
 * for the whole composition). `answer` returns the value for `channel`, or undefined when the call
 * needs the services; it runs only until the real dispatcher is there, and must not throw (an
 * early answer that cannot be given is the services' to give, with their errors).
 */
export interface EarlyAnswers {
  answer(channel: string, rawInput: unknown): unknown | Promise<unknown>;
}

export interface DeferredDispatcherOptions {
  early?: EarlyAnswers;
  /**
   * Called (once per call) when a call has to wait for the services, so a launcher that composes
   * them lazily starts now. Not called for calls the early answers served.
   */
  onWait?: (channel: string) => void;
}

/**
 * `pending` resolves with the real dispatcher, or rejects when the services could not start:
 * every call then fails with that error (its stable code when it is a GatehouseError).
 */
export function deferredDispatcher(
  pending: Promise<IpcDispatcher>,
  log: IpcErrorLog,
  opts: DeferredDispatcherOptions = {},
): DeferredDispatcher {
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
        if (real) return await real.invoke(channel, rawInput);
        const value = await opts.early?.answer(channel, rawInput);
        if (value !== undefined) return { ok: true, value };
        opts.onWait?.(String(channel));
        return await (await settled).invoke(channel, rawInput);
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
