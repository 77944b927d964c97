// The one way Gatehouse replaces a file: write-file-atomic (temp file, fsync, rename), so a crash
// or a concurrent reader sees the old file or the new one, never half a key or half a JSON
// document; writeFilesAtomic does the same for several files with their fsyncs in parallel.
// Private (0600) unless the caller says otherwise: most of what we write is secret.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
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
    throw storageError(path, e);
  }
}

/** One file of a writeFilesAtomic batch. */
export interface AtomicFile {
  path: string;
  data: string | Buffer;
  /** Final mode, exact (not filtered by the umask). Default 0600. */
  mode?: number;
}

/** Most files one batch replaces: a login's files are four or five; a bound keeps the fds in check. */
export const MAX_ATOMIC_BATCH = 16;

/**
 * Replaces several files, each atomically and durably, with their fsyncs in parallel: every temp
 * file is written and fsynced (on libuv's thread pool, so the journal commits of the fsyncs can
 * coincide) before the first rename, then they are renamed in the order given: the last file is
 * the commit point, as when they are written one after the other. A crash before the renames
 * leaves every old file; one between renames leaves the same states a sequence of
 * writeFileAtomicSync calls could leave. Any failure before the renames is a STORAGE error naming
 * the file, with every temp file removed and every old file kept.
 */
export async function writeFilesAtomic(files: readonly AtomicFile[]): Promise<void> {
  if (files.length > MAX_ATOMIC_BATCH) {
    throw new GatehouseError(
      ErrorCode.STORAGE,
      `cannot write ${files.length} files at once (at most ${MAX_ATOMIC_BATCH})`,
    );
  }
  const tag = `${process.pid}.${randomBytes(6).toString('hex')}`;
  const temps = files.map((f, i) => `${f.path}.${tag}.${i}.tmp`);
  const written = await Promise.allSettled(files.map((f, i) => writeDurably(temps[i]!, f)));
  const failed = written.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    await Promise.all(temps.map((t) => unlink(t).catch(() => undefined)));
    throw storageError(files[failed]!.path, (written[failed] as PromiseRejectedResult).reason);
  }
  for (let i = 0; i < files.length; i++) {
    try {
      await rename(temps[i]!, files[i]!.path);
    } catch (e) {
      await Promise.all(temps.slice(i).map((t) => unlink(t).catch(() => undefined)));
      throw storageError(files[i]!.path, e);
    }
  }
}

/** Creates `temp` (never an existing file) with the exact mode, writes it and fsyncs it. */
async function writeDurably(temp: string, file: AtomicFile): Promise<void> {
  const mode = file.mode ?? PRIVATE_FILE_MODE;
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.chmod(mode); // open's mode is filtered by the umask
    await handle.writeFile(file.data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function storageError(path: string, e: unknown): GatehouseError {
  const err = e as NodeJS.ErrnoException;
  return new GatehouseError(ErrorCode.STORAGE, `cannot write ${path}: ${err.code ?? err.message}`, { path });
}
