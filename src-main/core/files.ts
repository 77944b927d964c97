// Where Gatehouse keeps client state, and how it writes it: private directories (0700),
// private files (0600), and whole-file replacement (src-shared/atomic-write.ts) so that a crash
// or a concurrent reader never sees half a key or half a JSON document.
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { PRIVATE_FILE_MODE, writeFileAtomicSync } from '../../src-shared/atomic-write.ts';

export const PRIVATE_DIR_MODE = 0o700;
export { PRIVATE_FILE_MODE };

/** `GATEHOUSE_HOME` when set, else `~/.gatehouse`. Callers pass env and home so tests need no globals. */
export function resolveGatehouseHome(env: Record<string, string | undefined>, home: string = homedir()): string {
  const fromEnv = env.GATEHOUSE_HOME?.trim();
  return fromEnv ? resolve(fromEnv) : join(home, '.gatehouse');
}

function storageError(action: string, path: string, e: unknown): GatehouseError {
  const err = e as NodeJS.ErrnoException;
  return new GatehouseError(ErrorCode.STORAGE, `cannot ${action} ${path}: ${err.code ?? err.message}`, { path });
}

/** Creates the directory (and parents) and makes sure the leaf is private even if it existed. */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    // mkdir's mode is filtered by the umask, and an existing directory keeps its old mode.
    if ((statSync(dir).mode & 0o777) !== PRIVATE_DIR_MODE) chmodSync(dir, PRIVATE_DIR_MODE);
  } catch (e) {
    throw storageError('create directory', dir, e);
  }
}

/** Replaces `path` atomically (see writeFileAtomicSync) inside a private directory it creates. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = PRIVATE_FILE_MODE): void {
  ensurePrivateDir(dirname(path));
  writeFileAtomicSync(path, data, { mode });
}

/** The file's text, or undefined when it does not exist. */
export function readTextIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw storageError('read', path, e);
  }
}

/** Parsed JSON, undefined when missing; a corrupt file is a STORAGE error naming the file. */
export function readJsonIfExists(path: string): unknown {
  const text = readTextIfExists(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GatehouseError(ErrorCode.STORAGE, `${path} is not valid JSON; remove it or restore a backup`, { path });
  }
}

export function removePath(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (e) {
    throw storageError('remove', path, e);
  }
}
