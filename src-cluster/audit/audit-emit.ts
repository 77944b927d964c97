// Small helpers for the places that emit audit events, so each call site stays one line.
import type { DeviceFields } from '../../src-shared/cert-fields.ts';
import type { Logger } from '../log/logger.ts';
import { boundedUserName, type AuditEmitter, type AuditEventInput, type TrustedDeviceField } from './audit-events.ts';

/**
 * Records a refusal or a failed action. The action is refused whatever happens here, so a
 * storage failure must not replace the refusal's own error: it is logged loudly instead.
 */
export async function recordRefusal(audit: AuditEmitter, event: AuditEventInput, log: Logger): Promise<void> {
  try {
    await audit.emit(event);
  } catch (error) {
    log.error('audit event could not be stored', {
      type: event.type,
      user: boundedUserName(event.user ?? '').name,
      message: event.message ?? '',
      error: error as Error,
    });
  }
}

/** The `trusted_device` field of cert and session events, from a certificate's device fields. */
export function trustedDeviceField(fields: DeviceFields | undefined): TrustedDeviceField | undefined {
  if (!fields) return undefined;
  return { device_id: fields.deviceId, asset_tag: fields.assetTag, credential_id: fields.credentialId };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
