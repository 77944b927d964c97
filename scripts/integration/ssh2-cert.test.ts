// OpenSSH certificates across real implementations: our CA signs, stock OpenSSH (sshd, ssh) and the
// PATCHED ssh2 (scripts/patch-ssh2.mjs) use the certificates in both directions.
//   1. patched ssh2 client + user cert  -> stock sshd (TrustedUserCAKeys)
//   2. stock ssh -o CertificateFile     -> stock sshd
//   3. stock ssh with @cert-authority known_hosts -> ssh2 server presenting a host cert; the ssh2
//      server checks the client's user cert with src-shared/sshcert (ssh2 passes it through).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { userInfo } from 'node:os';
import { spawnSync } from 'node:child_process';
import ssh2 from 'ssh2';
import type { ConnectConfig, PublicKeyAuthMethod } from 'ssh2';
import {
  STANDARD_USER_EXTENSIONS,
  formatAuthorizedKey,
  formatCertificateLine,
  parseCertificate,
  privateKeyToOpenSSH,
  publicKeyToWire,
  signCertificate,
  verifyCertificate,
  verifySshSignature,
} from '../../src-shared/sshcert/index.ts';
import type { SshCertType } from '../../src-shared/sshcert/index.ts';
import { requireTool, tempDir } from '../../test-support/sshcert-testkit.ts';
import { runSsh, sshExec, startSshd } from './openssh-harness.ts';
import { freePort } from '../../test-support/cluster-process.ts';
import type { Sshd } from './openssh-harness.ts';

const login = userInfo().username;
const userCA = generateKeyPairSync('ed25519').privateKey;
const hostCA = generateKeyPairSync('ed25519').privateKey;
const userKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const nowS = () => BigInt(Math.floor(Date.now() / 1000));

function cert(type: SshCertType, key: Buffer, principals: string[], ca = type === 'user' ? userCA : hostCA): Buffer {
  return signCertificate({
    publicKey: key,
    type,
    keyId: `${type}-test`,
    principals,
    validAfter: nowS() - 60n,
    validBefore: nowS() + 600n,
    extensions: type === 'user' ? { ...STANDARD_USER_EXTENSIONS } : {},
    caPrivateKey: ca,
  });
}
const userCert = cert('user', publicKeyToWire(userKey), [login]);

const t = tempDir('gatehouse-ssh2-cert-');
let sshd: Sshd;

before(async () => {
  requireTool('/usr/sbin/sshd');
  requireTool('ssh');
  const patched = spawnSync(process.execPath, [new URL('../patch-ssh2.mjs', import.meta.url).pathname, '--check'], {
    encoding: 'utf8',
  });
  assert.equal(patched.status, 0, `ssh2 is not patched; run "node scripts/patch-ssh2.mjs": ${patched.stderr}`);
  sshd = await startSshd(t, formatAuthorizedKey(publicKeyToWire(userCA)));
});
after(() => {
  sshd?.stop();
  t.cleanup();
});

test('patched ssh2 client logs in to stock sshd with a user certificate and runs a command', async () => {
  const base: ConnectConfig = {
    host: '127.0.0.1',
    port: sshd.port,
    username: login,
    readyTimeout: 15_000,
    privateKey: privateKeyToOpenSSH(userKey),
    hostVerifier: (key: Buffer) => key.equals(sshd.hostKeyBlob),
  };
  const out = await sshExec({ ...base, certificate: userCert }, 'echo hi');
  assert.equal(out.stdout, 'hi\n');
  assert.equal(out.code, 0);
  // The same through an authHandler entry, with the certificate as a *-cert.pub line.
  const method: PublicKeyAuthMethod = {
    type: 'publickey',
    username: login,
    key: privateKeyToOpenSSH(userKey),
    certificate: formatCertificateLine(userCert),
  };
  const viaHandler = await sshExec({ ...base, privateKey: undefined, authHandler: [method] }, 'echo handler');
  assert.equal(viaHandler.stdout, 'handler\n');
  // Without the certificate the plain key is unknown to sshd: the certificate is what logs us in.
  await assert.rejects(sshExec(base, 'echo no'), /All configured authentication methods failed/);
  const foreign = cert('user', publicKeyToWire(userKey), [login], generateKeyPairSync('ed25519').privateKey);
  await assert.rejects(
    sshExec({ ...base, certificate: foreign }, 'echo no'),
    /All configured authentication methods failed/,
  );
  const otherPrincipal = cert('user', publicKeyToWire(userKey), [`not-${login}`]);
  await assert.rejects(
    sshExec({ ...base, certificate: otherPrincipal }, 'echo no'),
    /All configured authentication methods failed/,
  );
  assert.throws(
    () =>
      new ssh2.Client().connect({
        ...base,
        certificate: cert('user', publicKeyToWire(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey), [
          login,
        ]),
      }),
    /Cannot use certificate: certificate does not belong to this private key/,
  );
});

test('patched ssh2 client works with an ed25519 user key too', async () => {
  const ed = generateKeyPairSync('ed25519').privateKey;
  const out = await sshExec(
    {
      host: '127.0.0.1',
      port: sshd.port,
      username: login,
      privateKey: privateKeyToOpenSSH(ed),
      certificate: cert('user', publicKeyToWire(ed), [login]),
      hostVerifier: (k: Buffer) => k.equals(sshd.hostKeyBlob),
    },
    'echo ed',
  );
  assert.equal(out.stdout, 'ed\n');
});

test('stock ssh logs in to stock sshd with our key file and certificate', async () => {
  const key = t.file('id_ecdsa', privateKeyToOpenSSH(userKey));
  const certFile = t.file('id_ecdsa-cert.pub', formatCertificateLine(userCert) + '\n');
  const known = t.file('known_sshd', `[127.0.0.1]:${sshd.port} ${formatAuthorizedKey(sshd.hostKeyBlob)}\n`);
  const r = await runSsh(sshd.port, [
    '-i',
    key,
    '-o',
    `CertificateFile=${certFile}`,
    '-o',
    `UserKnownHostsFile=${known}`,
    `${login}@127.0.0.1`,
    'echo hi',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
});

test('stock ssh accepts an ssh2 server host certificate via @cert-authority, and the server verifies the user cert', async () => {
  const hostKey = generateKeyPairSync('ed25519').privateKey;
  const hostCert = cert('host', publicKeyToWire(hostKey), ['127.0.0.1', 'localhost']);
  const seen: string[] = [];
  const server = new ssh2.Server(
    { hostKeys: [{ key: privateKeyToOpenSSH(hostKey), certificate: hostCert }] },
    (client) => {
      client.on('authentication', (ctx) => {
        if (ctx.method !== 'publickey' || !ctx.key.algo.endsWith('-cert-v01@openssh.com'))
          return ctx.reject(['publickey']);
        const parsed = parseCertificate(ctx.key.data);
        const v = verifyCertificate(parsed, {
          trustedCAs: [publicKeyToWire(userCA)],
          type: 'user',
          principal: ctx.username,
        });
        if (!v.ok) return ctx.reject(['publickey']);
        if (!ctx.signature) return ctx.accept(); // "would this key do?" query
        // For certificate algorithms ssh2 hands over the whole SSH signature blob untouched.
        const good = verifySshSignature(parsed.publicKey, ctx.blob!, ctx.signature);
        seen.push(`${ctx.key.algo} ${good}`);
        return good ? ctx.accept() : ctx.reject(['publickey']);
      });
      client.on('ready', () => {
        client.on('session', (accept) => {
          accept().on('exec', (acc, _rej, info) => {
            const ch = acc();
            ch.write(`ssh2 ran: ${info.command}\n`);
            ch.exit(0);
            ch.end();
          });
        });
      });
      client.on('error', () => {});
    },
  );
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  try {
    const key = t.file('id2', privateKeyToOpenSSH(userKey));
    const certFile = t.file('id2-cert.pub', formatCertificateLine(userCert) + '\n');
    const known = t.file('known_ca', `@cert-authority * ${formatAuthorizedKey(publicKeyToWire(hostCA))}\n`);
    const args = [
      '-v',
      '-i',
      key,
      '-o',
      `CertificateFile=${certFile}`,
      '-o',
      `UserKnownHostsFile=${known}`,
      `${login}@127.0.0.1`,
      'whoami',
    ];
    const r = await runSsh(port, args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ssh2 ran: whoami\n');
    assert.match(r.stderr, /Server host certificate: ssh-ed25519-cert-v01@openssh.com/);
    assert.match(r.stderr, /is known and matches the ED25519-CERT host certificate/);
    assert.match(r.stderr, /Found CA key in .*known_ca:1/);
    assert.deepEqual(seen, ['ecdsa-sha2-nistp256-cert-v01@openssh.com true']);

    // A different host CA in known_hosts: strict checking must refuse the host.
    const wrongKnown = t.file('known_wrong', `@cert-authority * ${formatAuthorizedKey(publicKeyToWire(userCA))}\n`);
    const refused = await runSsh(port, [
      '-i',
      key,
      '-o',
      `CertificateFile=${certFile}`,
      '-o',
      `UserKnownHostsFile=${wrongKnown}`,
      `${login}@127.0.0.1`,
      'true',
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Host key verification failed/);

    // The patched ssh2 client against the ssh2 server (plain host key: ssh2 clients do not ask for certs).
    const viaSsh2 = await sshExec(
      {
        host: '127.0.0.1',
        port,
        username: login,
        privateKey: privateKeyToOpenSSH(userKey),
        certificate: userCert,
        hostVerifier: () => true,
      },
      'id',
    );
    assert.equal(viaSsh2.stdout, 'ssh2 ran: id\n');
    assert.equal(seen.length, 2);
  } finally {
    server.close();
  }
});

test('stock ssh accepts ecdsa and rsa host certificates from an ssh2 server', async () => {
  const kinds = [
    [
      'ECDSA-CERT',
      'ecdsa-sha2-nistp256-cert-v01@openssh.com',
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    ],
    ['RSA-CERT', 'rsa-sha2-512-cert-v01@openssh.com', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
  ] as const;
  for (const [label, algo, hostKey] of kinds) {
    const hostCert = cert('host', publicKeyToWire(hostKey), ['127.0.0.1']);
    const server = new ssh2.Server(
      { hostKeys: [{ key: privateKeyToOpenSSH(hostKey), certificate: formatCertificateLine(hostCert) }] },
      (client) => {
        client.on('authentication', (ctx) => ctx.accept());
        client.on('ready', () =>
          client.on('session', (accept) =>
            accept().on('exec', (acc) => {
              const ch = acc();
              ch.exit(0);
              ch.end();
            }),
          ),
        );
        client.on('error', () => {});
      },
    );
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const known = t.file(`known_${label}`, `@cert-authority * ${formatAuthorizedKey(publicKeyToWire(hostCA))}\n`);
      const r = await runSsh(port, [
        '-v',
        '-o',
        `UserKnownHostsFile=${known}`,
        '-o',
        'PreferredAuthentications=none',
        `${login}@127.0.0.1`,
        'true',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`kex: host key algorithm: ${algo}`));
      assert.match(r.stderr, new RegExp(`is known and matches the ${label} host certificate`));
    } finally {
      server.close();
    }
  }
});
