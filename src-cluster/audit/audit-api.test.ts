import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { SearchAuditEventsRequestSchema } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { queryFromRequest, searchAuditEvents, type AuditReadAccess } from './audit-api.ts';
import type { AuditQuery } from './audit-log.ts';

/** An authorizer that allows the audit resource only for the given verbs. */
function access(verbs: string[], calls: string[] = []): AuditReadAccess<unknown> {
  return {
    requireResourceAccess: async (_id: unknown, kind: string, verb: string) => {
      calls.push(`${kind}:${verb}`);
      if (kind !== 'audit' || !verbs.includes(verb))
        throw new GatehouseError(ErrorCode.ACCESS_DENIED, `may not ${verb} ${kind}`);
    },
  };
}

const who = { user: 'eve', roles: ['access'] };
const log = (seen: AuditQuery[] = []) => ({
  search: async (q: AuditQuery) => {
    seen.push(q);
    return {
      events: [
        { id: '1', time: 't', type: 'user.login' as const, code: 'GH1000I', user: 'a', success: true, message: '' },
      ],
      nextCursor: 'c2',
    };
  },
});

test('reading the audit log needs list or read on the audit resource', async () => {
  const req = create(SearchAuditEventsRequestSchema, {});
  const calls: string[] = [];
  await assert.rejects(searchAuditEvents(log(), access([], calls), who, req), /may not read audit/);
  assert.deepEqual(calls, ['audit:list', 'audit:read']);
  const viaRead = await searchAuditEvents(log(), access(['read']), who, req);
  assert.equal(viaRead.nextCursor, 'c2');
  assert.deepEqual(
    viaRead.eventsJson?.map((j) => (JSON.parse(j) as { code: string }).code),
    ['GH1000I'],
  );
  assert.ok(await searchAuditEvents(log(), access(['list']), who, req));
});

test('the request maps to a query; zero values mean unset; unknown types and orders are refused', () => {
  assert.deepEqual(queryFromRequest(create(SearchAuditEventsRequestSchema, {})), {});
  assert.deepEqual(
    queryFromRequest(
      create(SearchAuditEventsRequestSchema, {
        sinceUnixMs: 1000n,
        untilUnixMs: 2000n,
        type: 'session.end',
        user: 'bob',
        limit: 5,
        order: 'asc',
        cursor: 'abc',
      }),
    ),
    {
      since: new Date(1000),
      until: new Date(2000),
      type: 'session.end',
      user: 'bob',
      limit: 5,
      order: 'asc',
      cursor: 'abc',
    },
  );
  assert.throws(
    () => queryFromRequest(create(SearchAuditEventsRequestSchema, { type: 'x.y' })),
    /unknown audit event type "x\.y"/,
  );
  assert.throws(() => queryFromRequest(create(SearchAuditEventsRequestSchema, { order: 'up' })), /order must be/);
});
