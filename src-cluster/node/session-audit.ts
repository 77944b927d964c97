// session.start / session.end / access.denied for one SSH session on a node. The start is on
// record before the user's program runs (no record, no session); the end is recorded before the
// client hears the exit status. trusted_device appears only when the certificate carries the
// device fields and the cluster's device trust mode is not "off".
import { randomUUID } from 'node:crypto';
import { sshDeviceFields } from '../../src-shared/cert-fields.ts';
import type { SshCertificate } from '../../src-shared/sshcert/types.ts';
import { recordRefusal, trustedDeviceField } from '../audit/audit-emit.ts';
import type { AuditEmitter } from '../audit/audit-events.ts';
import type { ExitResult } from './process-runner.ts';
import type { Logger } from './types.ts';

export interface SessionAuditContext {
  audit: AuditEmitter;
  logger: Logger;
  node: string;
  cert: SshCertificate;
  login: string;
  clientAddress: string;
  /** The cluster's device trust mode now; absent = not off. */
  deviceTrustMode?: () => string;
}

function commonFields(ctx: SessionAuditContext): Record<string, unknown> {
  const fields: Record<string, unknown> = { login: ctx.login, node: ctx.node, client_address: ctx.clientAddress };
  const device = trustedDeviceField(sshDeviceFields(ctx.cert));
  if (device && ctx.deviceTrustMode?.() !== 'off') fields['trusted_device'] = device;
  return fields;
}

/** Records that the node refused a session channel (the refusal stands if recording fails). */
export async function recordSessionDenied(ctx: SessionAuditContext, reason: string): Promise<void> {
  await recordRefusal(
    ctx.audit,
    {
      type: 'access.denied',
      success: false,
      user: ctx.cert.keyId,
      message: reason,
      fields: { ...commonFields(ctx), reason },
    },
    ctx.logger,
  );
}

export class SessionAudit {
  readonly sessionId = randomUUID();
  #startedAt: number | undefined;

  constructor(private readonly ctx: SessionAuditContext) {}

  /** Throws when the audit log cannot take the event: the session must not start then. */
  async started(details: { command: string; pty: boolean }): Promise<void> {
    await this.ctx.audit.emit({
      type: 'session.start',
      success: true,
      user: this.ctx.cert.keyId,
      fields: { ...commonFields(this.ctx), session_id: this.sessionId, ...details },
    });
    this.#startedAt = Date.now();
  }

  /** Best effort: the session is over whatever happens here. Only for a recorded start. */
  async ended(result: ExitResult | undefined, message = ''): Promise<void> {
    if (this.#startedAt === undefined) return;
    const startedAt = this.#startedAt;
    this.#startedAt = undefined;
    await recordRefusal(
      this.ctx.audit,
      {
        type: 'session.end',
        success: result !== undefined,
        user: this.ctx.cert.keyId,
        message,
        fields: {
          ...commonFields(this.ctx),
          session_id: this.sessionId,
          duration_ms: Date.now() - startedAt,
          exit_code: result?.code,
          signal: result?.signal,
        },
      },
      this.ctx.logger,
    );
  }
}
