// The AuditEmitter of a joined service: each event goes to auth's audit log over
// ClusterService.EmitAuditEvent. While auth is unreachable events wait in a bounded queue and go
// out, in order, once it answers again; past the bound the oldest are dropped with an error log,
// because a node must keep serving sessions rather than grow memory while auth is away.
import { Code, ConnectError } from '@connectrpc/connect';
import type { AuditEmitter, AuditEventInput } from '../audit/audit-events.ts';
import type { Logger } from '../log/logger.ts';
import { encodeServiceAuditEvent } from '../join/service-audit.ts';
import type { ClusterClient } from './join-client.ts';

/** Events held while auth is unreachable. */
export const MAX_QUEUED_AUDIT_EVENTS = 1_000;
const EMIT_TIMEOUT_MS = 5_000;

export class RemoteAuditEmitter implements AuditEmitter {
  readonly #client: () => ClusterClient;
  readonly #log: Logger;
  readonly #queue: AuditEventInput[] = [];
  #dropped = 0;
  #flushing: Promise<void> | undefined;

  constructor(client: () => ClusterClient, log: Logger) {
    this.#client = client;
    this.#log = log;
  }

  /** Events waiting for auth. */
  get queued(): number {
    return this.#queue.length;
  }

  async emit(event: AuditEventInput): Promise<void> {
    // Behind a queue, an event goes behind it: the log keeps the order things happened in.
    if (this.#queue.length > 0 || !(await this.#send(event))) this.#enqueue(event);
  }

  /** Sends the queued events (called when the connection to auth is back). */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      if (!(await this.#send(this.#queue[0]!))) return;
      this.#queue.shift();
    }
    if (this.#dropped > 0) {
      this.#log.error('audit events were lost while auth was unreachable', { dropped: this.#dropped });
      this.#dropped = 0;
    }
  }

  #enqueue(event: AuditEventInput): void {
    if (this.#queue.length >= MAX_QUEUED_AUDIT_EVENTS) {
      this.#queue.shift();
      this.#dropped++;
    }
    this.#queue.push(event);
  }

  async #send(event: AuditEventInput): Promise<boolean> {
    try {
      await this.#client().emitAuditEvent(encodeServiceAuditEvent(event), { timeoutMs: EMIT_TIMEOUT_MS });
      return true;
    } catch (e) {
      const err = ConnectError.from(e);
      if (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded || err.code === Code.Unknown) {
        this.#log.debug('audit event not delivered yet', { type: event.type, error: err.rawMessage });
        return false;
      }
      // Auth answered and refused it: retrying would refuse again and hold up every later event.
      this.#log.error('auth refused an audit event', { type: event.type, error: err.rawMessage });
      return true;
    }
  }
}
