// The proxy's database routes refuse client certificates that are not a valid route certificate
// from the cluster's user CA: expired, forged (the user CA's name, another key), from another of
// the cluster's own CAs (host, database), without a route, or naming another route. Each case is
// the same certificate as one the proxy accepts (the control case, which must succeed, so a
// refusal is about the one thing changed), made with the cluster's real CA keys read from its
// storage as only a test can. Spoken to in the route protocol's own terms: TLS with ALPN
// gatehouse-postgres / gatehouse-mysql and the one-line JSON header.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  ALPN_POSTGRES,
  OID_ROUTE_DB_NAME,
  OID_ROUTE_DB_USER,
  OID_ROUTE_KIND,
  OID_ROUTE_NAME,
} from '../../../src-shared/cert-fields.ts';
import { makeCa } from '../../../test-support/test-pki.ts';
import { dbRoleYaml, MY_DB, PG_DB, startDbWorld, type DbWorld } from './db-fixture.ts';

const subtle = crypto.subtle;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR = 3600_000;
const AUTHORITY_KEY_ID = '2.5.29.35';

interface Signer {
  certPem: string;
  keyPem: string;
}
type Route = { kind: string; name: string; dbUser?: string; dbName?: string };
type Outcome = { ok: true } | { ok: false; why: string };

async function importKey(keyPem: string): Promise<CryptoKey> {
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return subtle.importKey('pkcs8', der, EC, false, ['sign']);
}

/**
 * `base` (a login certificate) again, with the route fields, signed by `signer` for `window`:
 * subject, key and every other extension as the cluster issued them.
 */
async function routeCert(base: string, signer: Signer, route: Route | undefined, window: { from: number; to: number }) {
  const cert = new x509.X509Certificate(base);
  const issuer = new x509.X509Certificate(signer.certPem);
  const text = (oid: string, value: string | undefined) =>
    value === undefined ? [] : [new x509.Extension(oid, false, Buffer.from(value, 'utf8'))];
  // Everything but the authority key id, which names the new signer.
  const kept = cert.extensions.filter((e) => e.type !== AUTHORITY_KEY_ID);
  const routeFields = route
    ? [
        ...text(OID_ROUTE_KIND, route.kind),
        ...text(OID_ROUTE_NAME, route.name),
        ...text(OID_ROUTE_DB_USER, route.dbUser),
        ...text(OID_ROUTE_DB_NAME, route.dbName),
      ]
    : [];
  const made = await x509.X509CertificateGenerator.create({
    subject: cert.subject,
    issuer: issuer.subject,
    publicKey: await cert.publicKey.export(EC, ['verify']),
    signingKey: await importKey(signer.keyPem),
    notBefore: new Date(window.from),
    notAfter: new Date(window.to),
    signingAlgorithm: SIGN,
    extensions: [...kept, ...routeFields, await x509.AuthorityKeyIdentifierExtension.create(issuer)],
  });
  return made.toString('pem');
}

describe('database routes at the proxy: route certificates only from the user CA, valid, for this route', () => {
  let world: DbWorld;
  let login: { certPem: string; keyPem: string };
  let userCa: Signer;
  const route: Route = { kind: 'db', name: PG_DB, dbUser: 'alice', dbName: 'orders' };
  const valid = () => ({ from: Date.now() - 60_000, to: Date.now() + HOUR });

  /** TLS to the proxy with `certPem` and the user's key, the header line, and the proxy's first reply line. */
  const tryRoute = (certPem: string, header: object): Promise<Outcome> =>
    new Promise((resolve, reject) => {
      const [host, port] = world.cluster.proxyAddr.split(':') as [string, string];
      // The proxy's identity is not what this test is about (gate pins it elsewhere).
      const socket = tls.connect({
        host,
        port: Number(port),
        ALPNProtocols: [ALPN_POSTGRES],
        cert: certPem,
        key: login.keyPem,
        rejectUnauthorized: false,
      });
      let text = '';
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`the proxy neither answered nor closed within 10 s (got "${text}")`));
      }, 10_000);
      const settle = (o: Outcome) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(o);
      };
      socket.once('secureConnect', () => socket.write(`${JSON.stringify(header)}\n`));
      socket.on('data', (d: Buffer) => {
        text += d.toString('utf8');
        const nl = text.indexOf('\n');
        if (nl < 0) return;
        const reply = JSON.parse(text.slice(0, nl)) as { ok: boolean; code?: string; message?: string };
        settle(reply.ok ? { ok: true } : { ok: false, why: `${reply.code}: ${reply.message}` });
      });
      socket.once('error', (e) => settle({ ok: false, why: `TLS: ${e.message}` }));
      socket.once('close', () => settle({ ok: false, why: `closed before a reply (got "${text}")` }));
    });
  const header = { db: PG_DB, db_user: 'alice', db_name: 'orders' };
  const assertRefused = (o: Outcome, why?: RegExp) => {
    assert.equal(o.ok, false, 'the proxy accepted it');
    if (why && !o.ok) assert.match(o.why, why);
  };

  before(async () => {
    world = await startDbWorld({ clusterName: 'dbcerts', nodeName: 'db-node' });
    world.cluster.apply(dbRoleYaml('dbs', { dbUsers: ['alice'], dbNames: ['orders'] }));
    world.addUserAndLogin('vic', ['dbs']);
    const profiles = join(world.home('vic'), 'profiles');
    const dir = join(
      profiles,
      readdirSync(profiles).find((d) => !d.startsWith('.'))!,
      'vic',
    );
    login = { certPem: readFileSync(join(dir, 'tls.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'key'), 'utf8') };
    userCa = world.cluster.storedAuthority('tls_user');
  });
  after(() => world?.stop());

  test('control: the same route certificate from the user CA, valid and for this route, is let through', async () => {
    const outcome = await tryRoute(await routeCert(login.certPem, userCa, route, valid()), header);
    assert.deepEqual(outcome, { ok: true });
  });

  test('an expired route certificate is refused', async () => {
    const expired = await routeCert(login.certPem, userCa, route, {
      from: Date.now() - 2 * HOUR,
      to: Date.now() - HOUR,
    });
    assertRefused(await tryRoute(expired, header));
  });

  test('a forged one (the user CA name, another key) is refused', async () => {
    const name = new x509.X509Certificate(userCa.certPem).subject;
    const impostor = await makeCa('placeholder');
    const lookalike = await x509.X509CertificateGenerator.createSelfSigned({
      name,
      keys: impostor.keys,
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + HOUR),
      signingAlgorithm: SIGN,
      extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
    });
    const forged = await routeCert(
      login.certPem,
      { certPem: lookalike.toString('pem'), keyPem: impostor.keyPem },
      route,
      valid(),
    );
    assertRefused(await tryRoute(forged, header));
  });

  test("one from the cluster's host CA or database CA is refused", async () => {
    for (const type of ['tls_host', 'tls_db']) {
      const wrong = await routeCert(login.certPem, world.cluster.storedAuthority(type), route, valid());
      assertRefused(await tryRoute(wrong, header));
    }
  });

  test('the login certificate (no route) and a route certificate for another route are refused with a reason', async () => {
    assertRefused(await tryRoute(login.certPem, header));
    const forMysql = await routeCert(login.certPem, userCa, { ...route, name: MY_DB }, valid());
    assertRefused(await tryRoute(forMysql, header), /./);
    const otherUser = await routeCert(login.certPem, userCa, { ...route, dbUser: 'bob' }, valid());
    assertRefused(await tryRoute(otherUser, header), /./);
  });
});
