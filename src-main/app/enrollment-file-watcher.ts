// Notices when the device store's enrollments.json changes under the app: `gate device enroll`
// in a terminal writes it (the store is shared per OS user, docs/device-trust-app.md), and the
// app should show the device as enrolled without a restart. fs.watch on the DIRECTORY, not the
// file: the record is replaced atomically (write temp + rename), which a watch on the old file's
// inode would miss. Bursts (temp file, rename, chmod) are debounced into one call. The store may
// not exist yet (nothing enrolled on this machine): then the directory is looked for again
// every DIRECTORY_RETRY_MS until it appears.
import { watch, type FSWatcher } from 'node:fs';
import type { AppLogger } from './logger.ts';

export const ENROLLMENTS_FILE = 'enrollments.json';
/** One notification per burst of file events (temp write, rename, chmod). */
export const ENROLLMENT_DEBOUNCE_MS = 200;
/** How often a missing device store directory is looked for again. */
export const DIRECTORY_RETRY_MS = 2_000;

export interface EnrollmentFileWatcherOptions {
  /** The device store directory (resolveDeviceHome). */
  directory: string;
  onChange: () => void;
  log: AppLogger;
  debounceMs?: number;
  retryMs?: number;
}

export class EnrollmentFileWatcher {
  private watcher: FSWatcher | undefined;
  private retry: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: EnrollmentFileWatcherOptions) {}

  /** Starts watching (or waiting for the directory); safe to call once. */
  start(): void {
    if (this.closed || this.watcher || this.retry) return;
    this.tryWatch();
  }

  /** Whether the directory is being watched now (false while waiting for it to exist). */
  get watching(): boolean {
    return this.watcher !== undefined;
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.retry);
    clearTimeout(this.debounce);
    this.retry = this.debounce = undefined;
  }

  private tryWatch(): void {
    this.retry = undefined;
    if (this.closed) return;
    try {
      const w = watch(this.opts.directory, { persistent: false }, (_event, file) => {
        // Some platforms give no name; then any change in the store may be the record.
        if (file === null || file === ENROLLMENTS_FILE) this.changed();
      });
      w.on('error', (e) => {
        // The directory was removed (a reset store): wait for it again.
        this.opts.log.debug('device store watch ended', { directory: this.opts.directory, error: e.message });
        w.close();
        if (this.watcher === w) this.watcher = undefined;
        this.scheduleRetry();
      });
      this.watcher = w;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        this.opts.log.warn('cannot watch the device store; enrolling from a terminal needs Refresh', {
          directory: this.opts.directory,
          error: (e as Error).message,
        });
        return;
      }
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => this.tryWatch(), this.opts.retryMs ?? DIRECTORY_RETRY_MS);
    this.retry.unref();
  }

  private changed(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (!this.closed) this.opts.onChange();
    }, this.opts.debounceMs ?? ENROLLMENT_DEBOUNCE_MS);
    this.debounce.unref();
  }
}
