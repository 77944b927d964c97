// Login, device authentication and session metrics, read off the audit events every service
// already records: each of those outcomes has exactly one event (user.login, device.authenticate,
// *.session.start / *.session.end), so counting there needs no hook in the auth server, the node,
// the db service or the app service, and what the metrics say always agrees with the audit log.
import type { AuditEmitter, AuditEventInput } from '../audit/audit-events.ts';
import { AuditLog, type AuditEvent } from '../audit/audit-log.ts';
import type { Backend } from '../storage/backend.ts';
import type { ProcessMetrics, SessionKind } from './metrics.ts';

const SESSION_EVENTS: Record<string, { kind: SessionKind; phase: 'start' | 'end' }> = {
  'session.start': { kind: 'ssh', phase: 'start' },
  'session.end': { kind: 'ssh', phase: 'end' },
  'db.session.start': { kind: 'db', phase: 'start' },
  'db.session.end': { kind: 'db', phase: 'end' },
  'app.session.start': { kind: 'app', phase: 'start' },
  'app.session.end': { kind: 'app', phase: 'end' },
};

/**
 * Open sessions remembered by id, so an end without a counted start (a start whose event could
 * not be stored) never drives the gauge below zero. Bounded by what one process can hold open.
 */
export const MAX_TRACKED_SESSIONS = 100_000;

/** Turns audit events into metric updates; one per process, shared by its emitters. */
export class AuditMetrics {
  readonly #open = new Map<string, SessionKind>();

  constructor(private readonly metrics: ProcessMetrics) {}

  /** Auth stored an event: logins and device authentications happen on auth, so it counts them. */
  observeAuthEvent(event: AuditEventInput): void {
    const result = event.success ? 'success' : 'failure';
    if (event.type === 'user.login') this.metrics.logins.inc({ result });
    else if (event.type === 'device.authenticate') this.metrics.deviceAuthentications.inc({ result });
  }

  /**
   * A service of this process recorded a session event. Sessions are counted where they run, not
   * by auth (which stores every service's events): a node killed mid-session never sends the end,
   * and auth's gauge would stay up forever.
   */
  observeSessionEvent(event: AuditEventInput): void {
    const session = SESSION_EVENTS[event.type];
    const id = event.fields?.['session_id'];
    if (!session || typeof id !== 'string') return;
    if (session.phase === 'start') {
      if (!event.success || this.#open.has(id) || this.#open.size >= MAX_TRACKED_SESSIONS) return;
      this.#open.set(id, session.kind);
      this.metrics.activeSessions.inc({ kind: session.kind });
    } else if (this.#open.delete(id)) {
      this.metrics.activeSessions.dec({ kind: session.kind });
    }
  }

  /** The session's end event could not be stored: the session is over all the same. */
  forget(event: AuditEventInput): void {
    const session = SESSION_EVENTS[event.type];
    const id = event.fields?.['session_id'];
    if (session?.phase === 'end' && typeof id === 'string' && this.#open.delete(id)) {
      this.metrics.activeSessions.dec({ kind: session.kind });
    }
  }

  /** Wraps a service's emitter (the remote one of a joined service). */
  wrap(inner: AuditEmitter): AuditEmitter {
    return {
      emit: async (event) => {
        try {
          await inner.emit(event);
        } catch (e) {
          this.forget(event);
          throw e;
        }
        this.observeSessionEvent(event);
      },
    };
  }
}

/** Auth's audit log, counting logins and device authentications once their events are stored. */
export class MeteredAuditLog extends AuditLog {
  constructor(
    backend: Backend,
    private readonly auditMetrics: AuditMetrics,
  ) {
    super(backend);
  }

  // emit, append and emitMany all store through appendMany.
  override async appendMany(events: readonly AuditEventInput[]): Promise<AuditEvent[]> {
    const stored = await super.appendMany(events);
    for (const event of events) this.auditMetrics.observeAuthEvent(event);
    return stored;
  }

  protected override observeStored(events: readonly AuditEventInput[]): void {
    for (const event of events) this.auditMetrics.observeAuthEvent(event);
  }
}
