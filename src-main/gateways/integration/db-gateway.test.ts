// db gateways against a real TLS "proxy" double on loopback that speaks the database route
// (mutual TLS, ALPN gatehouse-postgres / gatehouse-mysql, the {"db","db_user","db_name"} header,
// ok or a coded refusal, then the client's login message and bytes), with a one-line client
// front standing in for the Postgres/MySQL fronts. Proves: the front's db user / db name reach
// the header (pinned values win), the ALPN follows the route's protocol, the route certificate
// is issued for the login key once and reused, a refusal reaches the client in its own protocol
// and in info().lastRefusal / onRefused while the gateway stays up, and a CancelRequest-like
// opening is closed without dialing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tls from 'node:tls';
import { ALPN_MYSQL, ALPN_POSTGRES } from '../../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { readLine, writeHeaderLine } from '../../../src-shared/ssh-route.ts';
import { makeCa, makeLeaf, startTlsServer, type RunningTls } from '../../../test-support/test-pki.ts';
import type { ProfileAccess } from '../../core/gatehouse-client.ts';
import { generateClientKey } from '../../core/keys.ts';
import type { Profile } from '../../core/profiles.ts';
import { parseProxyAddress } from '../../core/proxy-address.ts';
import { RouteCertificates, type RouteCertificateRequest } from '../../core/route-certs.ts';
import { silentLogger } from '../../core/types.ts';
import { builtinRouteProtocols, GatewayService, profileRouteAccess } from '../gateway-service.ts';
import type { GatewayRoute } from '../route.ts';
import { lineDbFront } from '../test-support/line-db-front.ts';
import { connectLocal, readAll, readText } from '../test-support/local-socket.ts';

const DENIED_USER = 'mallory';
const FRONT_TIMEOUT_MS = 400;
const DEVICES_ONLY = 'devices-only';

interface Routed {
  alpn: string;
  header: Record<string, string>;
  certCn: string;
}

describe('db gateway: front, route certificate and database route', () => {
  let proxy: RunningTls;
  let access: ProfileAccess;
  const routed: Routed[] = [];
  const issued: RouteCertificateRequest[] = [];
  let failIssue: GatehouseError | undefined;
  const postgresFront = lineDbFront('postgres');
  const gateways = new GatewayService({
    protocols: builtinRouteProtocols({ dbFronts: { postgres: postgresFront, mysql: lineDbFront('mysql') } }),
  });

  before(async () => {
    const proxyCa = await makeCa('proxy CA');
    const userCa = await makeCa('user CA');
    const proxyLeaf = await makeLeaf(proxyCa, { cn: 'proxy', ips: ['127.0.0.1'] });
    const key = generateClientKey('alice@gatehouse');
    const loginCert = await makeLeaf(userCa, { cn: 'alice', client: true, keyPem: key.privateKeyPem });
    proxy = await startTlsServer({
      leaf: proxyLeaf,
      alpn: [ALPN_POSTGRES, ALPN_MYSQL],
      ca: [userCa.certPem],
      onSocket: (s: tls.TLSSocket) => void routeLikeTheProxy(s),
    });
    const profile = { proxy: `127.0.0.1:${proxy.port}`, user: 'alice' } as Profile;
    const certs = new RouteCertificates({
      clock: () => new Date(),
      issue: async (_p, request) => {
        issued.push(request);
        if (failIssue) throw failIssue;
        const cn = `route:${request.name}:${request.dbUser ?? '*'}:${request.dbName ?? '*'}`;
        const leaf = await makeLeaf(userCa, { cn, client: true, keyPem: key.privateKeyPem });
        return { certPem: leaf.certPem, expiresAt: new Date(Date.now() + 3600_000) };
      },
    });
    access = {
      profile,
      proxy: parseProxyAddress(profile.proxy),
      proxyCaPem: proxyCa.certPem,
      credentials: { key, sshCertificate: '', tlsCertificatePem: loginCert.certPem },
      clock: () => new Date(),
      logger: silentLogger,
      timeoutMs: 5000,
      explainTls: async () => new GatehouseError(ErrorCode.PROXY_UNTRUSTED, 'untrusted'),
      routeCertificate: (request) => certs.get(profile, loginCert.certPem, request),
    };
  });

  after(async () => {
    await gateways.closeAll();
    await proxy.close();
  });

  /** The proxy's db route as the doc fixes it; the "db service" behind it greets the login line, then echoes. */
  async function routeLikeTheProxy(s: tls.TLSSocket): Promise<void> {
    const header = JSON.parse(await readLine(s)) as Record<string, string>;
    const certCn = (s.getPeerCertificate().subject?.CN as string | undefined) ?? '';
    routed.push({ alpn: String(s.alpnProtocol), header, certCn });
    if (header.db === DEVICES_ONLY) {
      writeHeaderLine(s, {
        ok: false,
        code: ErrorCode.ACCESS_DENIED,
        message: 'access to db denied: unauthorized device',
      });
      s.end();
      return;
    }
    if (!s.authorized || header.db_user === DENIED_USER) {
      const message = `access to db "${header.db}" denied for db user "${header.db_user}"`;
      writeHeaderLine(s, { ok: false, code: ErrorCode.ACCESS_DENIED, message });
      s.end();
      return;
    }
    writeHeaderLine(s, { ok: true });
    const reading = readLine(s);
    s.resume(); // readLine left the socket paused after the header
    const login = await reading;
    s.write(`WELCOME ${login}\n`);
    s.pipe(s);
  }

  const open = (route: GatewayRoute) => gateways.create({ route, access: () => profileRouteAccess(access) });

  test('the client picks the db user and name; the header, ALPN and route certificate follow', async () => {
    routed.length = 0;
    issued.length = 0;
    const info = await open({ kind: 'db', name: 'orders', protocol: 'postgres' });
    for (let i = 0; i < 2; i++) {
      const local = await connectLocal(info.localPort);
      local.write('LOGIN alice sales\nping\n');
      assert.equal(await readText(local, 'ping\n'), 'WELCOME LOGIN alice sales\nping\n');
      local.destroy();
    }
    assert.deepEqual(routed, [
      { alpn: ALPN_POSTGRES, header: { db: 'orders', db_user: 'alice', db_name: 'sales' }, certCn: 'route:orders:*:*' },
      { alpn: ALPN_POSTGRES, header: { db: 'orders', db_user: 'alice', db_name: 'sales' }, certCn: 'route:orders:*:*' },
    ]);
    assert.deepEqual(issued, [{ kind: 'db', name: 'orders' }], 'one route certificate serves both connections');
    await gateways.close(info.id);
  });

  test('pinned db user and name win over the client and go into the certificate; mysql routes on its ALPN', async () => {
    routed.length = 0;
    issued.length = 0;
    const info = await open({ kind: 'db', name: 'hr', protocol: 'mysql', user: 'bob', database: 'payroll' });
    const local = await connectLocal(info.localPort);
    local.write('LOGIN eve other\n');
    assert.equal(await readText(local, '\n'), 'WELCOME LOGIN bob payroll\n');
    local.destroy();
    assert.deepEqual(routed, [
      { alpn: ALPN_MYSQL, header: { db: 'hr', db_user: 'bob', db_name: 'payroll' }, certCn: 'route:hr:bob:payroll' },
    ]);
    assert.deepEqual(issued, [{ kind: 'db', name: 'hr', dbUser: 'bob', dbName: 'payroll' }]);
    await gateways.close(info.id);
  });

  test('a refusal reaches the client in its protocol and lastRefusal; the gateway takes the next attempt', async () => {
    const info = await open({ kind: 'db', name: 'orders', protocol: 'postgres' });
    const gateway = gateways.get(info.id);
    const refusal = new Promise<GatehouseError>((resolve) => gateway.onRefused(resolve));
    const denied = await connectLocal(info.localPort);
    denied.write(`LOGIN ${DENIED_USER}\n`);
    const expected = `access to db "orders" denied for db user "${DENIED_USER}"`;
    assert.equal(await readAll(denied), `ERROR ${expected}\n`);
    assert.equal((await refusal).code, ErrorCode.ACCESS_DENIED);
    assert.equal(gateway.info().lastRefusal?.message, expected);

    const next = await connectLocal(info.localPort);
    next.write('LOGIN alice\n');
    assert.equal(await readText(next, '\n'), 'WELCOME LOGIN alice\n');
    next.destroy();
    await gateways.close(info.id);
  });

  test("a refusal for want of a trusted device is coded DEVICE_UNTRUSTED, in the service's words", async () => {
    const info = await open({ kind: 'db', name: DEVICES_ONLY, protocol: 'postgres' });
    const local = await connectLocal(info.localPort);
    local.write('LOGIN alice\n');
    assert.equal(await readAll(local), 'ERROR access to db denied: unauthorized device\n');
    assert.equal(gateways.get(info.id).info().lastRefusal?.code, ErrorCode.DEVICE_UNTRUSTED);
    await gateways.close(info.id);
  });

  test('a route certificate the cluster will not issue is a refusal with its code', async () => {
    failIssue = new GatehouseError(ErrorCode.DB_NOT_FOUND, 'database "gone" not found');
    try {
      const info = await open({ kind: 'db', name: 'gone', protocol: 'postgres' });
      const local = await connectLocal(info.localPort);
      local.write('LOGIN alice\n');
      assert.equal(await readAll(local), 'ERROR database "gone" not found\n');
      assert.equal(gateways.get(info.id).info().lastRefusal?.code, ErrorCode.DB_NOT_FOUND);
      await gateways.close(info.id);
    } finally {
      failIssue = undefined;
    }
  });

  test('an opening that asks for nothing is closed without dialing; a silent client is timed out', async () => {
    routed.length = 0;
    const info = await open({ kind: 'db', name: 'orders', protocol: 'postgres' });
    const cancel = await connectLocal(info.localPort);
    cancel.write('CANCEL\n');
    assert.equal(await readAll(cancel), '');
    assert.deepEqual(routed, [], 'nothing was dialed');
    assert.equal(gateways.get(info.id).info().lastRefusal, undefined);
    await gateways.close(info.id);

    const { dbRouteProtocol } = await import('../db/db-route.ts');
    const quick = new GatewayService({
      protocols: new (await import('../route.ts')).RouteProtocols([
        dbRouteProtocol({ postgres: lineDbFront(), mysql: lineDbFront('mysql') }, FRONT_TIMEOUT_MS),
      ]),
    });
    const q = await quick.create({
      route: { kind: 'db', name: 'orders', protocol: 'postgres' },
      access: () => profileRouteAccess(access),
    });
    const silent = await connectLocal(q.localPort);
    const started = Date.now();
    assert.equal(await readAll(silent), 'ERROR no login line in time\n');
    assert.ok(Date.now() - started < FRONT_TIMEOUT_MS + 2000, 'the front deadline holds');
    assert.deepEqual(routed, []);
    await quick.closeAll();
  });
});
