// The proxy's app routes refuse route certificates that are not valid for this app: expired
// (issue 14: "expired app certs refused"), for another app, or of another kind — each the same
// certificate as one the proxy accepts (the control case, which must succeed, so a refusal is
// about the one thing changed), made with the cluster's real user CA key read from its storage
// as only a test can. Spoken to in the route protocol's own terms: TLS with ALPN gatehouse-app /
// gatehouse-tcp and the one-line JSON header {"app"}.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';
import Database from 'better-sqlite3';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ALPN_APP, ALPN_TCP, OID_ROUTE_KIND, OID_ROUTE_NAME } from '../../../src-shared/cert-fields.ts';
import { appRoleYaml, ECHO_APP, startAppWorld, TCP_APP, WEB_APP, type AppWorld } from './app-fixture.ts';

const subtle = crypto.subtle;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR = 3600_000;
const AUTHORITY_KEY_ID = '2.5.29.35';

interface Signer {
  certPem: string;
  keyPem: string;
}
type Route = { kind: string; name: string };
type Outcome = { ok: true } | { ok: false; why: string };

/** A CA's certificate and key as the cluster keeps them (storage key /authorities/<type>). */
function storedCa(world: AppWorld, type: string): Signer {
  const db = new Database(join(world.cluster.dataDir, 'gatehouse.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT value FROM kv WHERE key = ?').get(`/authorities/${type}`) as
      { value: string } | undefined;
    if (!row) throw new Error(`no CA ${type} in the cluster's storage`);
    return JSON.parse(row.value) as Signer;
  } finally {
    db.close();
  }
}

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
  const routeFields = route ? [...text(OID_ROUTE_KIND, route.kind), ...text(OID_ROUTE_NAME, route.name)] : [];
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

describe('app routes at the proxy: route certificates valid and for this app only', () => {
  let world: AppWorld;
  let login: { certPem: string; keyPem: string };
  let userCa: Signer;
  const valid = () => ({ from: Date.now() - 60_000, to: Date.now() + HOUR });

  /** TLS to the proxy with `certPem` and the user's key, the header line, and the proxy's first reply line. */
  const tryRoute = (certPem: string, app: string, alpn = ALPN_APP): Promise<Outcome> =>
    new Promise((resolve, reject) => {
      const [host, port] = world.cluster.proxyAddr.split(':') as [string, string];
      // The proxy's identity is not what this test is about (gate pins it elsewhere).
      const socket = tls.connect({
        host,
        port: Number(port),
        ALPNProtocols: [alpn],
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
      socket.once('secureConnect', () => socket.write(`${JSON.stringify({ app })}\n`));
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
  const assertRefused = (o: Outcome, why?: RegExp) => {
    assert.equal(o.ok, false, 'the proxy accepted it');
    if (why && !o.ok) assert.match(o.why, why);
  };

  before(async () => {
    world = await startAppWorld({ clusterName: 'appcerts', nodeName: 'app-node', largeFileMiB: 1 });
    world.cluster.apply(appRoleYaml('apps', { '*': '*' }));
    world.addUserAndLogin('vic', ['apps']);
    const profiles = join(world.home('vic'), 'profiles');
    const dir = join(
      profiles,
      readdirSync(profiles).find((d) => !d.startsWith('.'))!,
      'vic',
    );
    login = { certPem: readFileSync(join(dir, 'tls.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'key'), 'utf8') };
    userCa = storedCa(world, 'tls_user');
  });
  after(() => world?.stop());

  test('control: a route certificate for this app from the user CA, valid, is let through (HTTP and TCP)', async () => {
    const web = await routeCert(login.certPem, userCa, { kind: 'app', name: WEB_APP }, valid());
    assert.deepEqual(await tryRoute(web, WEB_APP), { ok: true });
    const tcp = await routeCert(login.certPem, userCa, { kind: 'app', name: TCP_APP }, valid());
    assert.deepEqual(await tryRoute(tcp, TCP_APP, ALPN_TCP), { ok: true });
  });

  test('an expired app certificate is refused', async () => {
    const expired = await routeCert(
      login.certPem,
      userCa,
      { kind: 'app', name: WEB_APP },
      {
        from: Date.now() - 2 * HOUR,
        to: Date.now() - HOUR,
      },
    );
    assertRefused(await tryRoute(expired, WEB_APP), /CERT_EXPIRED|expired|TLS:/i);
  });

  test('a certificate for another app, of kind db, or the login certificate (no route) is refused', async () => {
    const other = await routeCert(login.certPem, userCa, { kind: 'app', name: ECHO_APP }, valid());
    assertRefused(await tryRoute(other, WEB_APP), /./);
    const db = await routeCert(login.certPem, userCa, { kind: 'db', name: WEB_APP }, valid());
    assertRefused(await tryRoute(db, WEB_APP), /./);
    assertRefused(await tryRoute(login.certPem, WEB_APP));
  });
});
