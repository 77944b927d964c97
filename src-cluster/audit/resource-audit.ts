// Audit events for admin changes made through the resource API: devices get device.create /
// device.update / device.delete, other kinds resource.*; locks are recorded by the lock service
// itself (lock.create / lock.delete), so they are left out here to avoid recording them twice.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Logger } from '../log/logger.ts';
import type { Resource } from '../storage/resources.ts';
import { errorMessage, recordRefusal } from './audit-emit.ts';
import type { AuditEmitter, AuditEventType } from './audit-events.ts';

export type ChangeAction = 'create' | 'update' | 'delete';

/** Kinds whose changes another component records. */
const RECORDED_ELSEWHERE = new Set(['lock']);

export interface ChangeContext {
  action: ChangeAction;
  /** Who made the change. */
  user: string;
  /** Canonical kind for what a request named (aliases, plural forms). */
  kindOf: (kind: string) => string;
  /** What the request named, as far as it could be read; refined from the result on success. */
  target: { kind?: string; name?: string; before?: Resource };
}

function eventType(kind: string, action: ChangeAction): AuditEventType {
  return kind === 'device' ? `device.${action}` : `resource.${action}`;
}

function fieldsOf(kind: string, name: string, resource?: Resource): Record<string, unknown> {
  if (kind !== 'device') return { kind, name };
  const spec = (resource?.spec ?? {}) as { asset_tag?: string; os_type?: string };
  return { device_id: name, asset_tag: spec.asset_tag ?? '', os_type: spec.os_type ?? '' };
}

/** What a ResourceAdmin call returned: create's {resource, created}, update's resource, delete's nothing. */
function changed(result: unknown, action: ChangeAction): { action: ChangeAction; resource?: Resource } {
  if (result && typeof result === 'object' && 'created' in result && 'resource' in result) {
    const r = result as { resource: Resource; created: boolean };
    return { action: r.created ? 'create' : 'update', resource: r.resource };
  }
  if (result && typeof result === 'object' && 'metadata' in result) return { action, resource: result as Resource };
  return { action };
}

/**
 * Runs `run` and records its outcome. A refused change is recorded as a failure (best effort:
 * the refusal stands either way). A change that went through is recorded before the caller is
 * told; if the audit log cannot take it, the caller gets a STORAGE error saying so.
 */
export async function auditedChange<T>(
  audit: AuditEmitter,
  log: Logger,
  ctx: ChangeContext,
  run: () => Promise<T>,
): Promise<T> {
  const requestedKind = ctx.target.kind ? ctx.kindOf(ctx.target.kind) : '';
  let result: T;
  try {
    result = await run();
  } catch (error) {
    if (!RECORDED_ELSEWHERE.has(requestedKind)) {
      await recordRefusal(
        audit,
        {
          type: eventType(requestedKind, ctx.action),
          success: false,
          user: ctx.user,
          message: errorMessage(error),
          fields: fieldsOf(requestedKind, ctx.target.name ?? ''),
        },
        log,
      );
    }
    throw error;
  }
  const done = changed(result, ctx.action);
  done.resource ??= ctx.target.before;
  const kind = done.resource?.kind ?? requestedKind;
  if (RECORDED_ELSEWHERE.has(kind)) return result;
  const name = done.resource?.metadata.name ?? ctx.target.name ?? '';
  try {
    await audit.emit({
      type: eventType(kind, done.action),
      success: true,
      user: ctx.user,
      fields: fieldsOf(kind, name, done.resource),
    });
  } catch (error) {
    throw new GatehouseError(
      ErrorCode.STORAGE,
      `the ${kind} "${name}" was ${done.action}d but the audit log could not record it (${errorMessage(error)}); check the cluster's storage`,
    );
  }
  return result;
}
