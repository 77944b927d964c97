// The app's events (main → renderer), typed by the IPC contract. One emitter per composed app;
// the dispatcher forwards them to whichever transport is attached (Electron, browser host).
import type { EventChannel, EventPayloads } from '../ipc/contract.ts';
import type { AppLogger } from './logger.ts';

export type AppEventListener = <E extends EventChannel>(event: E, payload: EventPayloads[E]) => void;

export class AppEvents {
  private readonly listeners = new Set<AppEventListener>();

  constructor(private readonly log: AppLogger) {}

  /** Subscribes to every event; returns the unsubscribe function. */
  on(listener: AppEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<E extends EventChannel>(event: E, payload: EventPayloads[E]): void {
    for (const l of [...this.listeners]) {
      // One broken transport must not keep the event from the others (or throw into a service).
      try {
        l(event, payload);
      } catch (e) {
        this.log.warn('event listener failed', { event, error: (e as Error).message });
      }
    }
  }
}
