// Native errors carry a string `code` (TPM_UNAVAILABLE, TPM_BINDING, ...), the TSS2 return code
// and its decoded text; this turns them into GatehouseErrors the CLI and app can act on.
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';

interface NativeError {
  message: string;
  code?: unknown;
  rc?: unknown;
  rcText?: unknown;
}

const CODE_MAP: Record<string, ErrorCode> = {
  TPM_UNAVAILABLE: ErrorCode.TPM_UNAVAILABLE,
  TPM_PERMISSION_DENIED: ErrorCode.TPM_PERMISSION_DENIED,
  TPM_BINDING: ErrorCode.TPM_BINDING,
  TPM_LOCKOUT: ErrorCode.TPM_LOCKOUT,
  // Busy (retry, self-test, out of slots) is transient like lockout; details.tpmCode tells them apart.
  TPM_BUSY: ErrorCode.TPM_LOCKOUT,
  TPM_BAD_INPUT: ErrorCode.BAD_REQUEST,
};

export function toTpmError(e: unknown): GatehouseError {
  if (e instanceof GatehouseError) return e;
  const err = (e ?? {}) as NativeError;
  const tpmCode = typeof err.code === 'string' ? err.code : 'TPM_ERROR';
  const details: Record<string, unknown> = { tpmCode };
  if (typeof err.rc === 'number') details.rc = err.rc;
  if (typeof err.rcText === 'string') details.rcText = err.rcText;
  let message = err.message ?? String(e);
  if (tpmCode === 'TPM_LOCKOUT') {
    message += '; the TPM is in dictionary-attack lockout: wait for it to recover or clear it (tpm2_dictionarylockout)';
  }
  return new GatehouseError(CODE_MAP[tpmCode] ?? ErrorCode.TPM_ERROR, message, details);
}

/** Awaits a native call, rethrowing its failure (sync throw or rejection) as a coded GatehouseError. */
export async function tpmCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toTpmError(e);
  }
}
