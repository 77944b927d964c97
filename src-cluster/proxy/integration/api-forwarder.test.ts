// The proxy's API forwarder between a real TLS client and a real TLS "auth" (HTTP/2 servers on
// loopback): what goes through, what is replaced, and what a client sees when auth is down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createCertAuthority, issueClientCert, issueServerCert, type TlsCaMaterial } from '../../auth/x509.ts';
import { createMemoryLogger } from '../../log/logger.ts';
import { ApiForwarder } from '../api-forwarder.ts';
import { AuthAddresses } from '../../service/auth-addresses.ts';
import { FORWARDED_CERT_HEADER, FORWARDED_FOR_HEADER } from '../../api/forwarded-peer.ts';

interface Pair {
  certPem: string;
  keyPem: string;
}

async function serverPair(ca: TlsCaMaterial, name: string): Promise<Pair> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const certPem = await issueServerCert({
    ca,
    publicKey: createPublicKey(privateKey),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3600_000),
    commonName: name,
    dnsNames: ['localhost'],
    ips: ['127.0.0.1'],
  });
  return { certPem, keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
}

async function userPair(ca: TlsCaMaterial, user = 'alice'): Promise<Pair> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const certPem = await issueClientCert({
    ca,
    publicKey: createPublicKey(privateKey),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3600_000),
    user,
    roles: ['access'],
    logins: ['alice'],
  });
  return { certPem, keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
}

function listen(server: http2.Http2SecureServer): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

let hostCa: TlsCaMaterial;
let userCa: TlsCaMaterial;
let proxyHostPair: Pair;
/** The proxy's client certificate toward auth (a host certificate carries both usages; this test splits them). */
let proxyClientPair: Pair;
let user: Pair;
let auth: http2.Http2SecureServer;
let front: http2.Http2SecureServer;
let forwarder: ApiForwarder;
let frontAddr: string;
const fwdLog = createMemoryLogger('debug');
const seen: { headers: http2.IncomingHttpHeaders; peerCn: string | undefined }[] = [];

before(async () => {
  hostCa = await createCertAuthority('host CA', 'fwd');
  userCa = await createCertAuthority('user CA', 'fwd');
  proxyHostPair = await serverPair(hostCa, 'proxy');
  proxyClientPair = await userPair(hostCa, 'proxy');
  user = await userPair(userCa);
  const authPair = await serverPair(hostCa, 'auth');
  auth = http2.createSecureServer(
    {
      ...{ cert: authPair.certPem, key: authPair.keyPem },
      ca: [hostCa.certPem],
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as unknown as TLSSocket).getPeerCertificate(false);
      seen.push({ headers: req.headers, peerCn: peer?.subject?.CN as string | undefined });
      if (req.url === '/echo') {
        // Echo each chunk as it arrives: only a forwarder that streams both ways lets the client see it.
        res.writeHead(201, { 'x-upstream': 'auth', 'content-type': 'application/octet-stream' });
        req.on('data', (chunk: Buffer) => res.write(Buffer.from(chunk.toString().toUpperCase())));
        req.on('end', () => {
          res.addTrailers({ 'x-trailer': 'done' });
          res.end();
        });
        return;
      }
      res.writeHead(404);
      res.end();
    },
  );
  const authAddr = await listen(auth);
  forwarder = new ApiForwarder({
    authAddresses: new AuthAddresses([authAddr], fwdLog),
    tls: () => ({ caPems: [hostCa.certPem], ...proxyClientPair }),
    log: fwdLog,
  });
  front = http2.createSecureServer(
    {
      cert: proxyHostPair.certPem,
      key: proxyHostPair.keyPem,
      ca: [userCa.certPem],
      requestCert: true,
      rejectUnauthorized: false,
    },
    forwarder.handler,
  );
  frontAddr = await listen(front);
});

after(() => {
  forwarder.close();
  front.close();
  auth.close();
});

function clientSession(withCert: boolean): http2.ClientHttp2Session {
  return http2.connect(`https://${frontAddr}`, {
    ca: [hostCa.certPem],
    ...(withCert ? { cert: user.certPem, key: user.keyPem } : {}),
  });
}

test('a call streams both ways through the forwarder with status, headers and trailers relayed', async () => {
  const session = clientSession(true);
  try {
    const stream = session.request({
      ':method': 'POST',
      ':path': '/echo',
      'content-type': 'application/octet-stream',
      // A client must not be able to claim another address or certificate.
      [FORWARDED_FOR_HEADER]: '6.6.6.6',
      [FORWARDED_CERT_HEADER]: 'Zm9yZ2Vk',
    });
    const response = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
    assert.equal(response[':status'], 201);
    assert.equal(response['x-upstream'], 'auth');
    const chunks: string[] = [];
    const nextChunk = () => new Promise<string>((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString())));
    stream.write('first');
    chunks.push(await nextChunk());
    stream.write('second');
    chunks.push(await nextChunk());
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('trailers', resolve));
    stream.end();
    assert.deepEqual(chunks, ['FIRST', 'SECOND'], 'each chunk came back before the request ended');
    assert.equal((await trailers)['x-trailer'], 'done');
    const call = seen.at(-1)!;
    assert.equal(call.peerCn, 'proxy', 'auth sees the proxy host certificate as its peer');
    assert.equal(call.headers[FORWARDED_FOR_HEADER], '127.0.0.1', 'the real source address, not the spoofed one');
    const forwardedDer = Buffer.from(String(call.headers[FORWARDED_CERT_HEADER]), 'base64');
    assert.equal(new X509Certificate(forwardedDer).subject, new X509Certificate(user.certPem).subject);
  } finally {
    session.close();
  }
});

test('without a client certificate nothing claims one, even when the client sends the header', async () => {
  const session = clientSession(false);
  try {
    const stream = session.request({ ':method': 'POST', ':path': '/echo', [FORWARDED_CERT_HEADER]: 'Zm9yZ2Vk' });
    stream.end('x');
    await new Promise((resolve) => stream.once('response', resolve));
    stream.resume();
    await new Promise((resolve) => stream.once('end', resolve));
    assert.equal(seen.at(-1)!.headers[FORWARDED_CERT_HEADER], undefined);
  } finally {
    session.close();
  }
});

test('with auth down the client gets a Connect "unavailable" answer, not a hang', async () => {
  const down = new ApiForwarder({
    authAddresses: new AuthAddresses(['127.0.0.1:1'], createMemoryLogger('debug')),
    tls: () => ({ caPems: [hostCa.certPem], ...proxyHostPair }),
    log: createMemoryLogger('debug'),
  });
  const server = http2.createSecureServer({ cert: proxyHostPair.certPem, key: proxyHostPair.keyPem }, down.handler);
  const addr = await listen(server);
  const session = http2.connect(`https://${addr}`, { ca: [hostCa.certPem] });
  try {
    const stream = session.request({ ':method': 'POST', ':path': '/gatehouse.v1.AuthService/Ping' });
    stream.end('{}');
    const response = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
    let body = '';
    stream.on('data', (d: Buffer) => (body += d.toString()));
    await new Promise((resolve) => stream.once('end', resolve));
    assert.equal(response[':status'], 503);
    assert.equal(JSON.parse(body).code, 'unavailable');
    assert.match(JSON.parse(body).message, /auth server is unreachable/);
  } finally {
    session.close();
    down.close();
    server.close();
  }
});

test('a refused connect moves the forwarder to the next auth address: the next call reaches it', async () => {
  const log = createMemoryLogger('debug');
  const { port } = auth.address() as AddressInfo;
  const addresses = new AuthAddresses(['127.0.0.1:1', `127.0.0.1:${port}`], log);
  const failing = new ApiForwarder({
    authAddresses: addresses,
    tls: () => ({ caPems: [hostCa.certPem], ...proxyClientPair }),
    log,
  });
  const server = http2.createSecureServer({ cert: proxyHostPair.certPem, key: proxyHostPair.keyPem }, failing.handler);
  const addr = await listen(server);
  const session = http2.connect(`https://${addr}`, { ca: [hostCa.certPem] });
  const status = async (): Promise<number> => {
    const stream = session.request({ ':method': 'POST', ':path': '/echo' });
    stream.end('x');
    const response = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
    stream.resume();
    await new Promise((resolve) => stream.once('close', resolve));
    return Number(response[':status']);
  };
  try {
    assert.equal(await status(), 503, 'the call that met the refused address is answered "unavailable"');
    assert.equal(addresses.current, `127.0.0.1:${port}`);
    assert.ok(log.lines.some((l) => /failing over to the next auth address/.test(l) && l.includes('127.0.0.1:1')));
    assert.equal(await status(), 201, 'the next call is served by the second auth address');
  } finally {
    session.close();
    failing.close();
    server.close();
  }
});
