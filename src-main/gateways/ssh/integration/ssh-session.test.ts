// SshConnection end to end without a cluster: a loopback TLS "proxy" speaking the routing
// handshake in front of a real ssh2 server with a host certificate. Checks user-certificate
// auth, host-certificate trust, stdout/stderr/exit status, pty shell + resize, and the refusal
// texts users see.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import ssh2 from 'ssh2';
import { ALPN_SSH } from '../../../../src-shared/cert-fields.ts';
import { ErrorCode, type GatehouseError } from '../../../../src-shared/errors.ts';
import { readHeaderLine, writeHeaderLine } from '../../../../src-shared/ssh-route.ts';
import {
  formatAuthorizedKey,
  formatCertificateLine,
  parseCertificate,
  privateKeyToOpenSSH,
  publicKeyToWire,
  signCertificate,
  verifyCertificate,
  verifySshSignature,
} from '../../../../src-shared/sshcert/index.ts';
import { generateClientKey } from '../../../core/keys.ts';
import { parseProxyAddress } from '../../../core/proxy-address.ts';
import { SshConnection, type SshChannel } from '../ssh-session.ts';
import { makeCa, makeLeaf, startTlsServer, type RunningTls } from '../../../../test-support/test-pki.ts';

const NODE = 'web1';
const OPEN_ADMINISTRATIVELY_PROHIBITED = 1;
const secs = () => BigInt(Math.floor(Date.now() / 1000));
/** Writes of many sizes: small packets arrive whole inside one TLS read, large ones span several. */
const MIXED_STREAM = Array.from({ length: 400 }, (_, i) =>
  randomBytes([1, 100, 3000, 16_000, 20_000, 65_536, 7][i % 7]!),
);
const readAll = (s: NodeJS.ReadableStream) =>
  new Promise<string>((resolve) => {
    let t = '';
    s.on('data', (d) => (t += d));
    s.on('end', () => resolve(t));
  });

describe('SshConnection through a routing proxy', () => {
  const userCa = generateKeyPairSync('ed25519').privateKey;
  const hostCa = generateKeyPairSync('ed25519').privateKey;
  const hostKey = generateKeyPairSync('ed25519').privateKey;
  const key = generateClientKey();
  const windowChanges: string[] = [];
  const clientIdents: string[] = [];
  const negotiations: ssh2.NegotiatedAlgorithms[] = [];
  let sshServer: ssh2.Server;
  let sshPort: number;
  let proxy: RunningTls;
  let proxyCaPem: string;
  let tlsClient: { certPem: string; keyPem: string };

  function credentials(login: string) {
    const cert = signCertificate({
      publicKey: key.publicKeyBlob,
      type: 'user',
      keyId: 'alice',
      principals: [login, 'denied'],
      validAfter: secs() - 60n,
      validBefore: secs() + 3600n,
      caPrivateKey: userCa,
    });
    return { key, sshCertificate: formatCertificateLine(cert), tlsCertificatePem: tlsClient.certPem };
  }

  function connect(opts: { login?: string; node?: string; hostCaLines?: string[] } = {}) {
    return SshConnection.open({
      proxy: parseProxyAddress(`127.0.0.1:${proxy.port}`),
      proxyCaPem,
      credentials: credentials(opts.login ?? 'alice'),
      sshHostCaKeys: opts.hostCaLines ?? [formatAuthorizedKey(publicKeyToWire(hostCa))],
      node: opts.node ?? NODE,
      login: opts.login ?? 'alice',
      clock: () => new Date(),
      timeoutMs: 10_000,
    });
  }

  before(async () => {
    const hostCert = signCertificate({
      publicKey: publicKeyToWire(hostKey),
      type: 'host',
      keyId: NODE,
      principals: [NODE],
      validAfter: secs() - 60n,
      validBefore: secs() + 3600n,
      caPrivateKey: hostCa,
    });
    sshServer = new ssh2.Server(
      // ssh2's own defaults on this side (compression, SHA-1 MACs, NIST kex): what the client agrees shows its lists.
      { hostKeys: [{ key: privateKeyToOpenSSH(hostKey), certificate: hostCert }] },
      (client, info) => {
        clientIdents.push(info.header.identRaw);
        client.on('handshake', (negotiated) => negotiations.push(negotiated));
        // Clients that refuse the host hang up mid-handshake; that is the point of one test.
        client.on('error', () => {});
        client.on('authentication', (ctx) => {
          if (ctx.method !== 'publickey' || !ctx.key.algo.endsWith('-cert-v01@openssh.com'))
            return ctx.reject(['publickey']);
          const cert = parseCertificate(ctx.key.data);
          const ok = verifyCertificate(cert, {
            trustedCAs: [publicKeyToWire(userCa)],
            type: 'user',
            principal: ctx.username,
          });
          if (!ok.ok) return ctx.reject(['publickey']);
          if (ctx.signature && !verifySshSignature(cert.publicKey, ctx.blob!, ctx.signature))
            return ctx.reject(['publickey']);
          ctx.accept();
        });
        let login = '';
        client.on('authentication', (ctx) => (login = ctx.username));
        client.on('session', (accept, reject) => {
          if (login === 'denied') {
            (reject as unknown as (code: number, why: string) => void)(
              OPEN_ADMINISTRATIVELY_PROHIBITED,
              'unauthorized device',
            );
            return;
          }
          const session = accept();
          let pty = '';
          session.on('pty', (acc, _rej, info) => {
            pty = `${info.term} ${info.cols}x${info.rows}`;
            acc?.();
          });
          session.on('window-change', (acc, _rej, info) => {
            windowChanges.push(`${info.cols}x${info.rows}`);
            acc?.();
          });
          session.on('exec', (acc, _rej, info) => {
            const ch = acc();
            if (info.command === 'mixed-stream') {
              for (const chunk of MIXED_STREAM) ch.write(chunk);
              ch.exit(0);
              ch.end();
              return;
            }
            ch.write(`out:${info.command}\n`);
            ch.stderr.write('err\n');
            ch.exit(3);
            ch.end();
          });
          session.on('shell', (acc) => {
            const ch = acc();
            ch.write(`pty ${pty}\r\n`);
            ch.on('data', (d: Buffer) => {
              if (d.toString().includes('bye')) {
                ch.write('closing\r\n');
                ch.exit(0);
                ch.end();
              }
            });
          });
        });
      },
    );
    await new Promise<void>((resolve) => sshServer.listen(0, '127.0.0.1', () => resolve()));
    sshPort = (sshServer.address() as net.AddressInfo).port;

    const proxyCa = await makeCa('proxy host CA');
    const tlsUserCa = await makeCa('tls user CA');
    proxyCaPem = proxyCa.certPem;
    tlsClient = await makeLeaf(tlsUserCa, { cn: 'alice', client: true, keyPem: key.privateKeyPem });
    const leaf = await makeLeaf(proxyCa, { cn: 'proxy', ips: ['127.0.0.1'] });
    proxy = await startTlsServer({
      leaf,
      chain: [proxyCa.certPem],
      alpn: [ALPN_SSH],
      ca: [tlsUserCa.certPem],
      onSocket: (s) => {
        void (async () => {
          if (!s.authorized)
            return writeHeaderLine(s, { ok: false, code: 'NOT_LOGGED_IN', message: 'client certificate refused' });
          const { node } = await readHeaderLine(s);
          if (node !== NODE) {
            writeHeaderLine(s, { ok: false, code: 'NODE_NOT_FOUND', message: `node "${node}" not found` });
            return s.end();
          }
          const up = net.connect(sshPort, '127.0.0.1', () => {
            writeHeaderLine(s, { ok: true });
            s.pipe(up);
            up.pipe(s);
          });
          up.on('error', () => s.destroy());
          s.on('close', () => up.destroy());
        })();
      },
    });
  });
  after(async () => {
    await proxy.close();
    await new Promise<void>((resolve) => sshServer.close(() => resolve()));
  });

  test('exec keeps stdout and stderr apart and reports the exit status', async () => {
    const conn = await connect();
    try {
      const ch = await conn.exec('hello world');
      const [out, err, status] = await Promise.all([readAll(ch.stdout), readAll(ch.stderr), ch.exit]);
      assert.equal(out, 'out:hello world\n');
      assert.equal(err, 'err\n');
      assert.deepEqual(status, { code: 3 });
    } finally {
      conn.close();
    }
    await conn.done;
  });

  test('a stream of mixed packet sizes arrives intact while the reader pauses (TLS reads into one reused buffer)', async () => {
    const conn = await connect();
    try {
      const ch = await conn.exec('mixed-stream');
      const received: Buffer[] = [];
      // Pausing makes the channel hold packets while later TLS reads arrive: a packet kept as a
      // view of the reused read buffer would be overwritten by then.
      ch.stdout.on('data', (d: Buffer) => {
        received.push(d);
        if (received.length % 25 === 0) {
          ch.stdout.pause();
          setTimeout(() => ch.stdout.resume(), 20);
        }
      });
      const ended = new Promise((resolve) => ch.stdout.once('end', resolve));
      assert.deepEqual(await ch.exit, { code: 0 });
      await ended;
      const digest = (parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest('hex');
      assert.equal(Buffer.concat(received).length, Buffer.concat(MIXED_STREAM).length);
      assert.equal(digest(received), digest(MIXED_STREAM));
    } finally {
      conn.close();
    }
    await conn.done;
  });

  test('the client announces SSH-2.0-Gatehouse and agrees X25519, AES-GCM and no compression', async () => {
    const conn = await connect();
    conn.close();
    assert.equal(clientIdents.at(-1), 'SSH-2.0-Gatehouse');
    const agreed = negotiations.at(-1)!;
    assert.equal(agreed.kex, 'curve25519-sha256');
    assert.equal(agreed.serverHostKey, 'ssh-ed25519-cert-v01@openssh.com');
    assert.deepEqual([agreed.cs.cipher, agreed.sc.cipher], ['aes128-gcm@openssh.com', 'aes128-gcm@openssh.com']);
    assert.deepEqual([agreed.cs.compress, agreed.sc.compress], ['none', 'none']);
  });

  test('a pty shell gets term and size, and resizes reach the node', async () => {
    const conn = await connect();
    try {
      const ch: SshChannel = await conn.shell({ term: 'xterm-test', cols: 101, rows: 33 });
      let screen = '';
      ch.stdout.on('data', (d) => (screen += d));
      while (!screen.includes('\n')) await new Promise((r) => setTimeout(r, 10));
      assert.match(screen, /pty xterm-test 101x33/);
      ch.resize(120, 40);
      while (windowChanges.length === 0) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(windowChanges, ['120x40']);
      ch.stdin.write('bye\r');
      assert.deepEqual(await ch.exit, { code: 0 });
      assert.match(screen, /closing/);
    } finally {
      conn.close();
    }
  });

  test('a session refused with reason 1 reads "ssh: rejected: administratively prohibited (...)"', async () => {
    const conn = await connect({ login: 'denied' });
    try {
      await assert.rejects(conn.exec('true'), (e: GatehouseError) => {
        return (
          // The node's "unauthorized device" refusal has its own code so the app can show its fix.
          e.code === ErrorCode.DEVICE_UNTRUSTED &&
          e.message === 'ssh: rejected: administratively prohibited (unauthorized device)'
        );
      });
    } finally {
      conn.close();
    }
  });

  test('a node whose host certificate is not from the cluster host CA is not trusted', async () => {
    const stranger = formatAuthorizedKey(publicKeyToWire(generateKeyPairSync('ed25519').privateKey));
    await assert.rejects(connect({ hostCaLines: [stranger] }), (e: GatehouseError) => {
      return (
        e.code === ErrorCode.CERT_INVALID && /node "web1" is not trusted: .*not this cluster's host CA/.test(e.message)
      );
    });
  });

  test('a login the certificate does not allow is refused at authentication', async () => {
    const conn = SshConnection.open({
      proxy: parseProxyAddress(`127.0.0.1:${proxy.port}`),
      proxyCaPem,
      credentials: credentials('alice'),
      sshHostCaKeys: [formatAuthorizedKey(publicKeyToWire(hostCa))],
      node: NODE,
      login: 'mallory',
      clock: () => new Date(),
    });
    await assert.rejects(
      conn,
      (e: GatehouseError) => e.code === ErrorCode.ACCESS_DENIED && /login "mallory"/.test(e.message),
    );
  });

  test("the proxy's routing refusal arrives with its code", async () => {
    await assert.rejects(
      connect({ node: 'ghost' }),
      (e: GatehouseError) => e.code === ErrorCode.NODE_NOT_FOUND && e.message === 'node "ghost" not found',
    );
  });
});
