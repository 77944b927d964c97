// Routes from untrusted input: kinds, name limits, the clean copy; the protocol table refuses a
// kind this build cannot route and a second protocol for one kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALPN_APP, ALPN_MYSQL, ALPN_POSTGRES, ALPN_SSH, ALPN_TCP } from '../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { builtinRouteProtocols } from './gateway-service.ts';
import { describeRoute, MAX_ROUTE_NAME, RouteProtocols, validateRoute, type GatewayRoute } from './route.ts';
import { sshRouteProtocol } from './ssh/ssh-route.ts';
import { dbRouteHeader } from './db/db-route.ts';
import { lineDbFront } from './test-support/line-db-front.ts';

const coded = (code: string) => (e: unknown) => e instanceof GatehouseError && e.code === code;

test('a valid route comes back as a clean copy without extra fields', () => {
  const input = {
    kind: 'db',
    name: 'orders',
    user: 'alice',
    database: 'sales',
    protocol: 'postgres',
    extra: 'dropped',
  } as GatewayRoute;
  assert.deepEqual(validateRoute(input), {
    kind: 'db',
    name: 'orders',
    user: 'alice',
    database: 'sales',
    protocol: 'postgres',
  });
  assert.deepEqual(validateRoute({ kind: 'ssh', name: 'web1' }), { kind: 'ssh', name: 'web1' });
});

test('bad routes are refused with a code naming what is wrong', () => {
  assert.throws(() => validateRoute({ kind: 'ftp' as never, name: 'x' }), coded(ErrorCode.UNKNOWN_KIND));
  assert.throws(() => validateRoute({ kind: 'ssh', name: '' }), coded(ErrorCode.BAD_REQUEST));
  assert.throws(() => validateRoute({ kind: 'ssh', name: undefined as never }), coded(ErrorCode.BAD_REQUEST));
  assert.throws(() => validateRoute({ kind: 'ssh', name: 'a b' }), /name of a ssh gateway/);
  assert.throws(
    () => validateRoute({ kind: 'ssh', name: 'x'.repeat(MAX_ROUTE_NAME + 1) }),
    coded(ErrorCode.BAD_REQUEST),
  );
  assert.doesNotThrow(() => validateRoute({ kind: 'ssh', name: 'x'.repeat(MAX_ROUTE_NAME) }));
  assert.throws(
    () => validateRoute({ kind: 'db', name: 'orders', user: 'a\0b', protocol: 'mysql' }),
    /user of a db gateway/,
  );
  assert.throws(() => validateRoute({ kind: 'db', name: 'orders' }), /protocol of a db gateway must be one of/);
  assert.throws(
    () => validateRoute({ kind: 'db', name: 'orders', protocol: 'oracle' as never }),
    (e: unknown) => coded(ErrorCode.BAD_REQUEST)(e) && /not "oracle"/.test((e as Error).message),
  );
  assert.throws(() => validateRoute({ kind: 'ssh', name: 'web1', protocol: 'mysql' }), /has no protocol/);
});

test('routes are named the same way in logs and lists', () => {
  assert.equal(describeRoute({ kind: 'ssh', name: 'web1' }), 'ssh:web1');
  assert.equal(
    describeRoute({ kind: 'db', name: 'orders', user: 'alice', database: 'sales' }),
    'db:orders (user alice, database sales)',
  );
});

test('the SSH protocol routes on gatehouse-ssh/1 with the node in the header; kinds without a protocol are refused', () => {
  const protocols = builtinRouteProtocols();
  const ssh = protocols.forRoute({ kind: 'ssh', name: 'web1' });
  assert.equal(ssh.alpn({ kind: 'ssh', name: 'web1' }), ALPN_SSH);
  assert.deepEqual(ssh.header({ kind: 'ssh', name: 'web1' }), { node: 'web1' });
  assert.throws(
    () => protocols.forRoute({ kind: 'kube', name: 'prod' }),
    (e: unknown) =>
      coded(ErrorCode.UNKNOWN_KIND)(e) &&
      /cannot open kube gateways yet \(supported: ssh, db, app\)/.test((e as Error).message),
  );
  assert.throws(() => new RouteProtocols([sshRouteProtocol, sshRouteProtocol]), coded(ErrorCode.CONFIG));
});

test('app routes: ALPN gatehouse-app for http apps, gatehouse-tcp for tcp apps, header {app}; HTTP refusals are answered', () => {
  const protocols = builtinRouteProtocols();
  const http: GatewayRoute = { kind: 'app', name: 'grafana', protocol: 'http' };
  const tcp: GatewayRoute = { kind: 'app', name: 'redis', protocol: 'tcp' };
  const app = protocols.forRoute(http);
  assert.equal(app.alpn(http), ALPN_APP);
  assert.equal(app.alpn(tcp), ALPN_TCP);
  assert.deepEqual(app.header(http), { app: 'grafana' });
  assert.equal(typeof app.refusal?.(http), 'function', 'an HTTP app answers a refusal with the page');
  assert.equal(app.refusal?.(tcp), undefined, 'a TCP app connection is closed');
  assert.equal(app.front, undefined, 'bytes are relayed from the first one');
  assert.throws(() => app.alpn({ kind: 'app', name: 'x' }), coded(ErrorCode.BAD_REQUEST));
  assert.deepEqual(validateRoute({ ...tcp }), tcp);
  assert.throws(() => validateRoute({ kind: 'app', name: 'x', protocol: 'postgres' }), /one of http, tcp/);
});

test('db routes: ALPN by protocol, header from what the client asked (pinned already won), a db user required', () => {
  const protocols = builtinRouteProtocols({ dbFronts: { postgres: lineDbFront(), mysql: lineDbFront('mysql') } });
  const pg: GatewayRoute = { kind: 'db', name: 'orders', protocol: 'postgres' };
  const my: GatewayRoute = { kind: 'db', name: 'hr', protocol: 'mysql', user: 'bob' };
  assert.equal(protocols.forRoute(pg).alpn(pg), ALPN_POSTGRES);
  assert.equal(protocols.forRoute(my).alpn(my), ALPN_MYSQL);
  assert.deepEqual(dbRouteHeader(pg, { user: 'alice', database: 'sales' }), {
    db: 'orders',
    db_user: 'alice',
    db_name: 'sales',
  });
  assert.deepEqual(dbRouteHeader(my), { db: 'hr', db_user: 'bob' }, 'db_name absent when there is none');
  assert.throws(
    () => dbRouteHeader(pg),
    (e: unknown) => coded(ErrorCode.BAD_REQUEST)(e) && /no database user/.test(String(e)),
  );
  assert.ok(protocols.forRoute(pg).front, 'db routes answer the client through a front');
  assert.equal(protocols.forRoute({ kind: 'ssh', name: 'web1' }).front, undefined);
});
