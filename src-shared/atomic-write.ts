// The one way Gatehouse replaces a file: write-file-atomic (temp file, fsync, rename), so a crash
// or a concurrent reader sees the old file or the new one, never half a key or half a JSON
// document. Private (0600) unless the caller says otherwise: most of what we write is secret.
import writeFileAtomic from 'write-file-atomic';
import { ErrorCode, GatehouseError } from './errors.ts';

export const PRIVATE_FILE_MODE = 0o600;

export interface AtomicWriteOptions {
  /** Final mode of the file, exact (not filtered by the umask). Default 0600. */
  mode?: number;
}

/**
 * Replaces `path` with `data` atomically and durably (the data is fsynced before the rename).
 * The temp file is created with the final mode, so a secret is never briefly world-readable.
 * The directory must exist. Any failure is a STORAGE error naming the file; the temp file is
 * removed and the old content stays.
 */
export function writeFileAtomicSync(path: string, data: string | Buffer, options: AtomicWriteOptions = {}): void {
  try {
    writeFileAtomic.sync(path, data, { mode: options.mode ?? PRIVATE_FILE_MODE, fsync: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new GatehouseError(ErrorCode.STORAGE, `cannot write ${path}: ${err.code ?? err.message}`, { path });
  }
}
