// Checks shared by every backend's write ops (single calls and batches): inputs are validated
// before any transaction starts, and failed preconditions read the same everywhere.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { checkKey, type BatchOp, type ItemInput } from './backend.ts';

export function checkInput(input: ItemInput): number | null {
  checkKey(input.key);
  if (typeof input.value !== 'string') {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `storage value for ${input.key} must be a string`);
  }
  if (input.expires === undefined) return null;
  const ms = input.expires instanceof Date ? input.expires.getTime() : NaN;
  if (!Number.isFinite(ms)) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `storage expiry for ${input.key} is not a valid date`);
  }
  return ms;
}

/** Validates an op before the transaction; returns its expiry (ms) for writes. */
export function checkOp(op: BatchOp): number | null {
  switch (op?.type) {
    case 'put':
    case 'create':
      return checkInput(op.item);
    case 'compareAndSwap':
      if (op.expected?.key !== op.item?.key) {
        throw new GatehouseError(
          ErrorCode.BAD_REQUEST,
          `compare-and-swap keys differ: ${op.expected?.key} vs ${op.item?.key}`,
        );
      }
      return checkInput(op.item);
    case 'delete':
    case 'check':
      checkKey(op.key);
      return null;
    default:
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `unknown storage batch op ${JSON.stringify(op)}`);
  }
}

export function casConflict(
  expected: { key: string; revision?: number },
  current: { revision: number } | undefined,
): GatehouseError {
  const want = expected.revision === undefined ? 'to exist' : `revision ${expected.revision}`;
  return new GatehouseError(
    ErrorCode.CONFLICT,
    current
      ? `${expected.key} changed: expected ${want}, found revision ${current.revision}`
      : `${expected.key} no longer exists (expected ${want})`,
    { key: expected.key, expected: expected.revision ?? null, actual: current?.revision ?? null },
  );
}
