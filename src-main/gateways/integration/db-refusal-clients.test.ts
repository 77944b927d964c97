// The real psql and mariadb clients through a db gateway with the real PostgreSQL / MySQL fronts,
// against a TLS proxy double that refuses the route: each client prints the proxy's reason as
// its own native error (psql "FATAL: ...", mariadb "ERROR 1045 ..."), exits non-zero at once,
// and the gateway records the refusal and keeps listening. (The accepted path to a real
// database needs the cluster's db service: see src-main/cli/integration/gate-db.test.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type * as tls from 'node:tls';
import { ALPN_MYSQL, ALPN_POSTGRES } from '../../../src-shared/cert-fields.ts';
import { ErrorCode } from '../../../src-shared/errors.ts';
import { readLine, writeHeaderLine } from '../../../src-shared/ssh-route.ts';
import { makeCa, makeLeaf, startTlsServer, type RunningTls } from '../../../test-support/test-pki.ts';
import { parseProxyAddress } from '../../core/proxy-address.ts';
import { dbClientArgs } from '../db/client-command.ts';
import { builtinRouteProtocols, GatewayService, type RouteAccess } from '../gateway-service.ts';

/** Runs a client asynchronously: the gateway under test lives in this process's event loop. */
function run(
  program: string,
  args: string[],
): Promise<{ status: number | null; out: string; ms: number; error?: Error }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', (error) => resolve({ status: null, out, ms: Date.now() - started, error }));
    child.once('close', (status) => resolve({ status, out, ms: Date.now() - started }));
  });
}

describe('real database clients see a refused route as their own error', () => {
  let proxy: RunningTls;
  let access: RouteAccess;
  const headers: Record<string, string>[] = [];
  const gateways = new GatewayService({ protocols: builtinRouteProtocols() });

  before(async () => {
    const proxyCa = await makeCa('proxy CA');
    const userCa = await makeCa('user CA');
    const userCert = await makeLeaf(userCa, { cn: 'alice', client: true });
    proxy = await startTlsServer({
      leaf: await makeLeaf(proxyCa, { cn: 'proxy', ips: ['127.0.0.1'] }),
      alpn: [ALPN_POSTGRES, ALPN_MYSQL],
      ca: [userCa.certPem],
      onSocket: (s: tls.TLSSocket) =>
        void readLine(s).then((line) => {
          const header = JSON.parse(line) as Record<string, string>;
          headers.push({ ...header, alpn: String(s.alpnProtocol) });
          const message = `access to db ${header.db} denied: db user "${header.db_user}" is not allowed`;
          writeHeaderLine(s, { ok: false, code: ErrorCode.ACCESS_DENIED, message });
          s.end();
        }),
    });
    access = {
      proxy: parseProxyAddress(`127.0.0.1:${proxy.port}`),
      proxyCaPem: proxyCa.certPem,
      certificateFor: async () => userCert,
      timeoutMs: 5000,
    };
  });

  after(async () => {
    await gateways.closeAll();
    await proxy.close();
  });

  test('psql prints FATAL with the reason; the next attempt is answered the same way', async () => {
    const info = await gateways.create({
      route: { kind: 'db', name: 'orders', protocol: 'postgres' },
      access: () => access,
    });
    const args = [
      '-X',
      '-w',
      ...dbClientArgs('psql', { host: '127.0.0.1', port: info.localPort, dbUser: 'bob', dbName: 'sales' }),
    ];
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await run('psql', [...args, '-c', 'select 1']);
      assert.equal(r.error, undefined, 'psql (postgresql-client) must be installed for this test');
      assert.notEqual(r.status, 0);
      assert.match(r.out, /FATAL: {2}access to db orders denied: db user "bob" is not allowed/, r.out);
      assert.ok(r.ms < 5000, `psql got its answer in ${r.ms} ms`);
    }
    assert.deepEqual(headers.slice(-1), [{ db: 'orders', db_user: 'bob', db_name: 'sales', alpn: ALPN_POSTGRES }]);
    assert.equal(gateways.get(info.id).info().lastRefusal?.code, ErrorCode.ACCESS_DENIED);
    await gateways.close(info.id);
  });

  test('mariadb prints ERROR 1045 with the reason', async () => {
    const info = await gateways.create({
      route: { kind: 'db', name: 'hr', protocol: 'mysql', user: 'carol' },
      access: () => access,
    });
    const args = [
      '--no-defaults',
      ...dbClientArgs('mariadb', { host: '127.0.0.1', port: info.localPort, dbUser: 'eve' }),
    ];
    const r = await run('mariadb', [...args, '-e', 'select 1']);
    assert.equal(r.error, undefined, 'mariadb (mariadb-client) must be installed for this test');
    assert.notEqual(r.status, 0);
    assert.match(r.out, /ERROR 1045 .*access to db hr denied: db user "carol" is not allowed/, r.out);
    assert.deepEqual(headers.slice(-1), [{ db: 'hr', db_user: 'carol', alpn: ALPN_MYSQL }], 'the pinned user wins');
    await gateways.close(info.id);
  });
});
