// The AuditEmitter of a joined service: events go to auth's audit log in order, through one
// sender. A burst (db query events) goes out in batches (ClusterService.EmitAuditEvents, at most
// MAX_AUDIT_EVENTS_PER_CALL a call) instead of one call per event. While auth is unreachable
// events wait in a bounded queue and go out, in order, once it answers again; past the bound the
// oldest are dropped with an error log, because a service must keep serving sessions rather than
// grow memory while auth is away.
import { Code, ConnectError } from '@connectrpc/connect';
import type { AuditEmitter, AuditEventInput } from '../audit/audit-events.ts';
import type { Logger } from '../log/logger.ts';
import { encodeServiceAuditEvent, type ServiceAuditRequest } from '../join/service-audit.ts';
import type { ClusterClient } from './join-client.ts';

/** Events held while auth is unreachable. */
export const MAX_QUEUED_AUDIT_EVENTS = 1_000;
/** The most events one EmitAuditEvents call carries (auth's limit). */
export const MAX_AUDIT_EVENTS_PER_CALL = 500;
/** Bytes of one batch, well under the API's 1 MiB request bound (an event is at most ~17 KiB). */
const MAX_BATCH_BYTES = 512 << 10;
const EMIT_TIMEOUT_MS = 5_000;
/**
 * How long the sender waits before a call, so that the events of a burst (one per statement
 * across all sessions) share one call and one auth-side transaction instead of one each. Nothing
 * on the data path awaits an event, so this delays only the audit record, never a session.
 */
export const AUDIT_BATCH_LINGER_MS = 10;

interface Queued {
  request: ServiceAuditRequest;
  type: string;
  bytes: number;
  /** Resolves the emit() that queued it: sent, refused, or left waiting for auth. */
  settle: () => void;
}

type SendResult = 'sent' | 'unavailable' | 'refused';

const TRANSIENT = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Unknown]);

export class RemoteAuditEmitter implements AuditEmitter {
  readonly #client: () => ClusterClient;
  readonly #log: Logger;
  readonly #queue: Queued[] = [];
  #dropped = 0;
  /** Set when auth did not answer: events only queue until flush() (the connection is back). */
  #waitingForAuth = false;
  #draining: Promise<void> | undefined;

  constructor(client: () => ClusterClient, log: Logger) {
    this.#client = client;
    this.#log = log;
  }

  /** Events waiting for auth. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves once the event is in auth's log, refused by it, or queued while auth is unreachable. */
  emit(event: AuditEventInput): Promise<void> {
    return new Promise<void>((settle) => {
      const request = encodeServiceAuditEvent(event);
      const bytes = request.fieldsJson.length + request.message.length + request.user.length + 64;
      this.#enqueue({ request, type: event.type, bytes, settle });
      if (this.#waitingForAuth) settle();
      else void this.#drainOnce();
    });
  }

  /** Sends the queued events (called when the connection to auth is back). */
  flush(): Promise<void> {
    this.#waitingForAuth = false;
    return this.#drainOnce();
  }

  #drainOnce(): Promise<void> {
    this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
    return this.#draining;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#waitingForAuth) {
      if (this.#queue.length < MAX_AUDIT_EVENTS_PER_CALL) {
        await new Promise((resolve) => setTimeout(resolve, AUDIT_BATCH_LINGER_MS));
        if (this.#waitingForAuth) return;
      }
      const batch = this.#nextBatch();
      const result = await this.#sendBatch(batch);
      if (result === 'unavailable') {
        this.#waitingForAuth = true;
        // Everyone waiting learns the event is held; it goes out on the next flush().
        for (const q of this.#queue) q.settle();
        return;
      }
      this.#settleBatch(batch);
    }
    if (this.#dropped > 0 && this.#queue.length === 0) {
      this.#log.error('audit events were lost while auth was unreachable', { dropped: this.#dropped });
      this.#dropped = 0;
    }
  }

  /**
   * A sent batch out of the queue in one splice (not one O(n) splice per event): the bound only
   * drops from the head, so what is left of the batch is still the queue's head, in order.
   */
  #settleBatch(batch: Queued[]): void {
    const firstLeft = batch.indexOf(this.#queue[0]!);
    if (firstLeft >= 0) {
      let n = 0;
      while (firstLeft + n < batch.length && this.#queue[n] === batch[firstLeft + n]) n++;
      this.#queue.splice(0, n);
    }
    for (const q of batch) q.settle();
  }

  /** Out of the queue (by identity: the bound may have dropped it meanwhile) and its emit() resolved. */
  #settleSent(q: Queued): void {
    const i = this.#queue.indexOf(q);
    if (i >= 0) this.#queue.splice(i, 1);
    q.settle();
  }

  #nextBatch(): Queued[] {
    const batch: Queued[] = [];
    let bytes = 0;
    for (const q of this.#queue) {
      if (batch.length >= MAX_AUDIT_EVENTS_PER_CALL || (batch.length > 0 && bytes + q.bytes > MAX_BATCH_BYTES)) break;
      batch.push(q);
      bytes += q.bytes;
    }
    return batch;
  }

  #enqueue(q: Queued): void {
    if (this.#queue.length >= MAX_QUEUED_AUDIT_EVENTS) {
      this.#queue.shift()!.settle();
      this.#dropped++;
    }
    this.#queue.push(q);
  }

  async #sendBatch(batch: Queued[]): Promise<SendResult> {
    if (batch.length === 1) return this.#sendOne(batch[0]!);
    try {
      await this.#client().emitAuditEvents({ events: batch.map((q) => q.request) }, { timeoutMs: EMIT_TIMEOUT_MS });
      return 'sent';
    } catch (e) {
      const err = ConnectError.from(e);
      if (TRANSIENT.has(err.code)) return this.#unavailable(batch[0]!.type, err);
      // Auth refused the batch as a whole (one bad event, or an auth without EmitAuditEvents):
      // one by one, so only the events it refuses are lost.
      this.#log.debug('audit batch refused; sending its events one by one', { error: err.rawMessage });
      for (const q of batch) {
        if ((await this.#sendOne(q)) === 'unavailable') return 'unavailable';
        this.#settleSent(q);
      }
      return 'sent';
    }
  }

  async #sendOne(q: Queued): Promise<SendResult> {
    try {
      await this.#client().emitAuditEvent(q.request, { timeoutMs: EMIT_TIMEOUT_MS });
      return 'sent';
    } catch (e) {
      const err = ConnectError.from(e);
      if (TRANSIENT.has(err.code)) return this.#unavailable(q.type, err);
      // Auth answered and refused it: retrying would refuse again and hold up every later event.
      this.#log.error('auth refused an audit event', { type: q.type, error: err.rawMessage });
      return 'refused';
    }
  }

  #unavailable(type: string, err: ConnectError): SendResult {
    this.#log.debug('audit event not delivered yet', { type, error: err.rawMessage });
    return 'unavailable';
  }
}
