// How any thrown value becomes the IpcError that crosses to the renderer. GatehouseErrors keep
// their stable code, message and details (they were written for users); anything else is a bug
// or an unexpected failure: the renderer gets INTERNAL with a generic message, the log gets the
// real one, so internals (paths, stack traces) never reach the UI.
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type { IpcError } from './contract.ts';

/** Where the real message of an unexpected error goes (the renderer only gets INTERNAL_MESSAGE). */
export interface IpcErrorLog {
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const INTERNAL_MESSAGE = 'Something went wrong inside the app. The details are in its log.';

export function toIpcError(e: unknown, log: IpcErrorLog, context: Record<string, unknown> = {}): IpcError {
  if (isGatehouseError(e)) {
    const out: IpcError = { code: e.code, message: e.message };
    const details = jsonSafe(e.details);
    if (details) out.details = details;
    return out;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  log.error('unexpected error', { ...context, error: err.message, stack: err.stack });
  return { code: ErrorCode.INTERNAL, message: INTERNAL_MESSAGE };
}

/** Details must survive JSON (WebSocket) and structured clone (Electron); drop what would not. */
function jsonSafe(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!details || Object.keys(details).length === 0) return undefined;
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function badRequest(message: string, details?: Record<string, unknown>): GatehouseError {
  return new GatehouseError(ErrorCode.BAD_REQUEST, message, details);
}
