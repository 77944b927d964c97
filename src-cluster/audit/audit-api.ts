// The SearchAuditEvents call: permission check, request → AuditQuery, page → JSON strings.
// Reading the audit log is a role rule on the resource "audit" (verb list or read); the editor
// preset's '*' covers it.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  SearchAuditEventsRequest,
  SearchAuditEventsResponseSchema,
} from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import { AUDIT_EVENT_TYPES, type AuditEventType } from './audit-events.ts';
import type { AuditPage, AuditQuery } from './audit-log.ts';

export const AUDIT_RESOURCE = 'audit';

/**
 * The one question this call asks the authorizer (authz/AccessChecker answers it). Declared here
 * rather than imported because audit sits below authz in the layers: the authorizer records its
 * decisions in the audit log, so audit may not depend on it.
 */
export interface AuditReadAccess<Who> {
  requireResourceAccess(who: Who, kind: string, verb: 'list' | 'read'): Promise<void>;
}

export interface AuditSearcher {
  search(query: AuditQuery): Promise<AuditPage>;
}

type Response = MessageInitShape<typeof SearchAuditEventsResponseSchema>;

async function requireAuditAccess<Who>(access: AuditReadAccess<Who>, who: Who): Promise<void> {
  try {
    await access.requireResourceAccess(who, AUDIT_RESOURCE, 'list');
  } catch (e) {
    if (!isGatehouseError(e) || e.code !== ErrorCode.ACCESS_DENIED) throw e;
    await access.requireResourceAccess(who, AUDIT_RESOURCE, 'read');
  }
}

export function queryFromRequest(req: SearchAuditEventsRequest): AuditQuery {
  const query: AuditQuery = {};
  if (req.sinceUnixMs > 0n) query.since = new Date(Number(req.sinceUnixMs));
  if (req.untilUnixMs > 0n) query.until = new Date(Number(req.untilUnixMs));
  if (req.type) {
    if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(req.type)) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `unknown audit event type "${req.type}"; known: ${AUDIT_EVENT_TYPES.join(', ')}`,
      );
    }
    query.type = req.type as AuditEventType;
  }
  if (req.user) query.user = req.user;
  if (req.limit) query.limit = req.limit;
  if (req.order) {
    if (req.order !== 'asc' && req.order !== 'desc') {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `order must be "asc" or "desc", got "${req.order}"`);
    }
    query.order = req.order;
  }
  if (req.cursor) query.cursor = req.cursor;
  return query;
}

export async function searchAuditEvents<Who>(
  log: AuditSearcher | undefined,
  access: AuditReadAccess<Who>,
  who: Who,
  req: SearchAuditEventsRequest,
): Promise<Response> {
  await requireAuditAccess(access, who);
  if (!log) throw new GatehouseError(ErrorCode.INTERNAL, 'this auth service has no audit log');
  const page = await log.search(queryFromRequest(req));
  return { eventsJson: page.events.map((e) => JSON.stringify(e)), nextCursor: page.nextCursor ?? '' };
}
