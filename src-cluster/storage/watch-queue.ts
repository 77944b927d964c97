// A Watcher fed by a backend's event dispatcher and drained with `for await`. Shared so the
// PostgreSQL backend can reuse it: backends only decide which events to deliver and when.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { matchesPrefixes, type WatchEvent, type Watcher } from './backend.ts';

export const DEFAULT_MAX_BUFFERED_EVENTS = 10_000;

export interface QueuedWatcherOptions {
  prefixes: readonly string[];
  /**
   * A consumer that stops reading must not grow memory without bound; past this many unread
   * events the watcher fails and the consumer has to re-create it and re-read.
   */
  maxBuffered?: number;
  /** Lets the backend forget the watcher (and stop polling when none are left). */
  onClose?: (watcher: QueuedWatcher) => void;
}

export class QueuedWatcher implements Watcher {
  readonly prefixes: readonly string[];
  readonly #maxBuffered: number;
  readonly #onClose: ((watcher: QueuedWatcher) => void) | undefined;
  #queue: WatchEvent[] = [];
  #waiter: { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (e: unknown) => void } | undefined;
  #closed = false;
  #error: Error | undefined;
  #iterated = false;

  constructor(options: QueuedWatcherOptions) {
    this.prefixes = Object.freeze([...options.prefixes]);
    this.#maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED_EVENTS;
    this.#onClose = options.onClose;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Hands an event to the consumer when its key is under one of the watched prefixes. */
  deliver(event: WatchEvent): void {
    if (this.#closed) return;
    if (event.type !== 'init' && !matchesPrefixes(event.item.key, this.prefixes)) return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve({ value: event, done: false });
      return;
    }
    if (this.#queue.length >= this.#maxBuffered) {
      this.fail(
        new GatehouseError(
          ErrorCode.STORAGE,
          `storage watcher fell behind (${this.#queue.length} unread events); re-create the watcher and re-read`,
        ),
      );
      return;
    }
    this.#queue.push(event);
  }

  /** Ends the watcher with an error the consumer sees on its next read. */
  fail(error: Error): void {
    if (this.#closed) return;
    this.#error = error;
    this.#finish();
  }

  close(): void {
    if (this.#closed) return;
    this.#finish();
  }

  #finish(): void {
    this.#closed = true;
    this.#queue = [];
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter) {
      const error = this.#takeError();
      if (error) waiter.reject(error);
      else waiter.resolve({ value: undefined, done: true });
    }
    this.#onClose?.(this);
  }

  // The error is reported once; later reads just see the end.
  #takeError(): Error | undefined {
    const error = this.#error;
    this.#error = undefined;
    return error;
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    if (this.#iterated) {
      throw new GatehouseError(ErrorCode.INTERNAL, 'a storage watcher can only be iterated once');
    }
    this.#iterated = true;
    return {
      next: () => {
        const event = this.#queue.shift();
        if (event) return Promise.resolve({ value: event, done: false });
        if (this.#closed) {
          const error = this.#takeError();
          return error ? Promise.reject(error) : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => {
          this.#waiter = { resolve, reject };
        });
      },
      // Runs when the consumer leaves the loop early (break, throw).
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
