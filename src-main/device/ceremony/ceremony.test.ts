// The client halves of enrollment and device authentication against an in-memory Connect server
// (the real generated service, real bidi streams) and a fake TPM: message order and contents,
// coded errors from the server, a silent server, a broken challenge, and the TPM's timing share.
import { after, describe, test } from 'node:test';
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Code, ConnectError, createClient, type Client, type ServiceImpl } from '@connectrpc/connect';
import { connectNodeAdapter, createConnectTransport, Http2SessionManager } from '@connectrpc/connect-node';
import {
  DeviceTrustService,
  type AuthenticateDeviceRequest,
  type EnrollDeviceRequest,
} from '../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ERROR_CODE_HEADER, ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { CollectedDeviceData } from '../collect.ts';
import { authenticateDevice } from './authenticate-device.ts';
import { enrollDevice } from './enroll-device.ts';
import type { CeremonyTpm } from './stream-steps.ts';

const AK_TPMT = Buffer.from('0001000b00050072000000100014000b0800000000000100' + 'ab'.repeat(256), 'hex');
const AK_TPM2B = Buffer.concat([Buffer.from([AK_TPMT.length >> 8, AK_TPMT.length & 0xff]), AK_TPMT]);
const CRED_ID = createHash('sha256').update(AK_TPMT).digest('hex');
const SECRET = Buffer.from('the sealed secret');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const DATA: CollectedDeviceData = {
  collect_time: '2026-11-26T06:00:00.000Z',
  os_type: 'linux',
  os_id: 'debian',
  os_version: '12 (bookworm)',
  hostname: 'box',
  os_username: 'alice',
  serial_number: 'machine-id:0123456789abcdef',
  serial_source: 'machine-id',
  serial_note: 'no DMI data',
};

/** A TPM that "activates" by returning SECRET and quotes by echoing the nonce; each call takes `delayMs`. */
function fakeTpm(opts: { ekCert?: Buffer | null; delayMs?: number; calls?: string[] } = {}): CeremonyTpm {
  const slow = async <T>(name: string, v: T): Promise<T> => {
    opts.calls?.push(name);
    if (opts.delayMs) await sleep(opts.delayMs);
    return v;
  };
  return {
    ekCertificate: () => slow('ekCertificate', opts.ekCert === undefined ? Buffer.from('ek-der') : opts.ekCert),
    ekPublic: () => slow('ekPublic', Buffer.from('ek-public')),
    attestationKey: () =>
      slow('attestationKey', {
        public: AK_TPM2B,
        private: Buffer.from('priv'),
        creationData: Buffer.from('cdata'),
        creationAttest: Buffer.from('cattest'),
        creationSignature: Buffer.from('csig'),
      }),
    activateCredential: (blob, secret) =>
      slow(
        'activateCredential',
        blob.toString() === 'blob' && secret.toString() === 'seed' ? SECRET : Buffer.from('wrong'),
      ),
    quote: (nonce, pcrs) =>
      slow('quote', {
        attest: Buffer.concat([Buffer.from('attest:'), nonce]),
        signature: Buffer.from(`sig:${pcrs.join(',')}`),
      }),
    readPcrs: (pcrs) => slow('readPcrs', new Map(pcrs.map((p) => [p, Buffer.alloc(32, p)]))),
  };
}

const DEVICE = {
  id: 'dev-1',
  assetTag: 'machine-id:0123456789abcdef',
  osType: 'linux',
  enrollStatus: 'enrolled',
  credentialId: CRED_ID,
  attestationType: 'ekcert',
};

const servers: { server: Http2Server; session: Http2SessionManager }[] = [];
const serverSessions = new Set<ServerHttp2Session>();
after(() => {
  for (const { server, session } of servers) {
    session.abort();
    server.close();
  }
  for (const s of serverSessions) s.destroy();
});

/** A real HTTP/2 (h2c) Connect server on loopback running `impl`, and a client for it. */
async function client(
  impl: Partial<ServiceImpl<typeof DeviceTrustService>>,
): Promise<Client<typeof DeviceTrustService>> {
  const server = createServer(connectNodeAdapter({ routes: (r) => r.service(DeviceTrustService, impl) }));
  server.on('session', (s) => serverSessions.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const session = new Http2SessionManager(baseUrl);
  servers.push({ server, session });
  return createClient(
    DeviceTrustService,
    createConnectTransport({ httpVersion: '2', baseUrl, sessionManager: session }),
  );
}

function coded(code: string, message: string, grpc = Code.PermissionDenied): ConnectError {
  return new ConnectError(message, grpc, { [ERROR_CODE_HEADER]: code });
}

/**
 * The server's stable code on a failed ceremony: the ceremony passes the API error through
 * untouched, and core's mapApiError (tested in core/api-errors.test.ts) turns it into a
 * GatehouseError with that code.
 */
function serverCode(e: unknown): string | null {
  assert.ok(e instanceof ConnectError, `expected the API error, got ${String(e)}`);
  return e.metadata.get(ERROR_CODE_HEADER);
}

describe('enrollDevice', () => {
  test('sends init with token, credential id, EK public + cert, AK evidence; answers the challenge', async () => {
    const seen: EnrollDeviceRequest[] = [];
    const api = await client({
      async *enrollDevice(reqs) {
        const it = reqs[Symbol.asyncIterator]();
        const init = (await it.next()).value as EnrollDeviceRequest;
        seen.push(init);
        yield {
          payload: {
            case: 'tpmChallenge',
            value: {
              encryptedCredential: { credentialBlob: Buffer.from('blob'), secret: Buffer.from('seed') },
              attestationNonce: Buffer.from('n0nce'),
              pcrs: [0, 7],
            },
          },
        };
        const resp = (await it.next()).value as EnrollDeviceRequest;
        seen.push(resp);
        yield { payload: { case: 'success', value: { device: DEVICE } } };
      },
    });
    const r = await enrollDevice({ api, tpm: fakeTpm(), deviceData: DATA, token: ' tok-1 ' });
    assert.equal(r.credentialId, CRED_ID);
    assert.deepEqual(r.device, DEVICE);
    const init = seen[0]!.payload;
    assert.equal(init.case, 'init');
    if (init.case !== 'init') return;
    assert.equal(init.value.token, 'tok-1');
    assert.equal(init.value.credentialId, CRED_ID);
    assert.equal(Buffer.from(init.value.tpm!.ekPublic).toString(), 'ek-public');
    assert.equal(Buffer.from(init.value.tpm!.ekCert).toString(), 'ek-der');
    assert.deepEqual(Buffer.from(init.value.tpm!.attestationParameters!.public), AK_TPM2B);
    assert.equal(Buffer.from(init.value.tpm!.attestationParameters!.createSignature).toString(), 'csig');
    assert.equal(init.value.deviceData!.serialNumber, DATA.serial_number);
    assert.equal(init.value.deviceData!.collectTimeUnix, BigInt(Date.parse(DATA.collect_time) / 1000));
    const resp = seen[1]!.payload;
    assert.equal(resp.case, 'tpmChallengeResponse');
    if (resp.case !== 'tpmChallengeResponse') return;
    assert.deepEqual(Buffer.from(resp.value.solution), SECRET);
    assert.equal(Buffer.from(resp.value.platformParameters!.quote!.quote).toString(), 'attest:n0nce');
    assert.deepEqual(
      resp.value.platformParameters!.pcrs.map((p) => p.index),
      [0, 7],
    );
  });

  test('a TPM without EK certificate sends the EK public only; timings count the TPM separately', async () => {
    let ekCertLen = -1;
    const api = await client({
      async *enrollDevice(reqs) {
        const it = reqs[Symbol.asyncIterator]();
        const init = (await it.next()).value as EnrollDeviceRequest;
        if (init.payload.case === 'init') ekCertLen = init.payload.value.tpm!.ekCert.length;
        yield {
          payload: {
            case: 'tpmChallenge',
            value: {
              encryptedCredential: { credentialBlob: Buffer.from('blob'), secret: Buffer.from('seed') },
              attestationNonce: Buffer.from('n'),
              pcrs: [0],
            },
          },
        };
        await it.next();
        await sleep(60); // server-side work: part of the total, not of the TPM share
        yield { payload: { case: 'success', value: { device: DEVICE } } };
      },
    });
    const calls: string[] = [];
    const r = await enrollDevice({
      api,
      tpm: fakeTpm({ ekCert: null, delayMs: 10, calls }),
      deviceData: DATA,
      token: 't',
    });
    assert.equal(ekCertLen, 0);
    assert.deepEqual(calls, ['attestationKey', 'ekCertificate', 'ekPublic', 'activateCredential', 'quote', 'readPcrs']);
    assert.ok(r.timings.tpmMs >= 6 * 9, `tpm ${r.timings.tpmMs}`);
    assert.ok(r.timings.totalMs >= r.timings.tpmMs + 55, JSON.stringify(r.timings));
    assert.deepEqual(Object.keys(r.timings.tpmCalls).sort(), [...calls].sort());
  });

  test('a spent token comes back as the coded error the server sent', async () => {
    const api = await client({
      // eslint-disable-next-line require-yield
      async *enrollDevice() {
        throw coded(ErrorCode.BAD_CREDENTIALS, 'the enroll token was already used');
      },
    });
    const e = await enrollDevice({ api, tpm: fakeTpm(), deviceData: DATA, token: 't' }).catch((x: unknown) => x);
    assert.equal(serverCode(e), ErrorCode.BAD_CREDENTIALS);
    assert.match((e as ConnectError).rawMessage, /already used/);
  });

  test('a server that never answers fails the step in time instead of hanging', async () => {
    const api = await client({
      async *enrollDevice(reqs, ctx) {
        await reqs[Symbol.asyncIterator]().next();
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        yield { payload: { case: 'success', value: {} } };
      },
    });
    const started = Date.now();
    const e = await enrollDevice({ api, tpm: fakeTpm(), deviceData: DATA, token: 't', stepTimeoutMs: 150 }).catch(
      (x: unknown) => x,
    );
    assert.ok(e instanceof GatehouseError, String(e));
    assert.equal(e.code, ErrorCode.PROXY_UNREACHABLE);
    assert.match(e.message, /did not answer the enrollment request/);
    assert.ok(Date.now() - started < 2_000);
  });

  test('a challenge with PCRs out of range is refused before the TPM sees it', async () => {
    const calls: string[] = [];
    const api = await client({
      async *enrollDevice(reqs) {
        await reqs[Symbol.asyncIterator]().next();
        yield {
          payload: {
            case: 'tpmChallenge',
            value: {
              encryptedCredential: { credentialBlob: Buffer.from('blob'), secret: Buffer.from('seed') },
              attestationNonce: Buffer.from('n'),
              pcrs: [0, 24],
            },
          },
        };
      },
    });
    const e = await enrollDevice({ api, tpm: fakeTpm({ calls }), deviceData: DATA, token: 't' }).catch(
      (x: unknown) => x,
    );
    assert.ok(e instanceof GatehouseError);
    assert.match(e.message, /PCR index 24/);
    assert.ok(!calls.includes('activateCredential'));
  });

  test('an empty token is refused locally', async () => {
    const e = await enrollDevice({ api: await client({}), tpm: fakeTpm(), deviceData: DATA, token: '  ' }).catch(
      (x: unknown) => x,
    );
    assert.ok(e instanceof GatehouseError);
    assert.equal(e.code, ErrorCode.BAD_REQUEST);
  });
});

describe('authenticateDevice', () => {
  const certs = {
    sshCertificate: 'ssh-ed25519-cert-v01@openssh.com AAAA',
    tlsCertificatePem: '-----BEGIN CERTIFICATE-----\nx\n',
  };

  test('sends the current certificates, quotes the nonce, returns the re-issued ones', async () => {
    const seen: AuthenticateDeviceRequest[] = [];
    const api = await client({
      async *authenticateDevice(reqs) {
        const it = reqs[Symbol.asyncIterator]();
        seen.push((await it.next()).value as AuthenticateDeviceRequest);
        yield { payload: { case: 'tpmChallenge', value: { attestationNonce: Buffer.from('nonce-2'), pcrs: [7] } } };
        seen.push((await it.next()).value as AuthenticateDeviceRequest);
        yield {
          payload: {
            case: 'success',
            value: { userCertificates: { sshCertificate: 'new-ssh', tlsCertificate: 'new-tls' }, device: DEVICE },
          },
        };
      },
    });
    const calls: string[] = [];
    const r = await authenticateDevice({
      api,
      tpm: fakeTpm({ calls }),
      deviceData: DATA,
      certificates: certs,
      expectedCredentialId: CRED_ID,
    });
    assert.deepEqual(r.certificates, { sshCertificate: 'new-ssh', tlsCertificatePem: 'new-tls' });
    assert.equal(r.device.id, 'dev-1');
    assert.deepEqual(calls, ['attestationKey', 'quote', 'readPcrs'], 'no credential activation, no EK');
    const init = seen[0]!.payload;
    assert.ok(init.case === 'init');
    assert.equal(init.value.userCertificates!.sshCertificate, certs.sshCertificate);
    assert.equal(init.value.userCertificates!.tlsCertificate, certs.tlsCertificatePem);
    assert.equal(init.value.credentialId, CRED_ID);
    const resp = seen[1]!.payload;
    assert.ok(resp.case === 'tpmChallengeResponse');
    assert.equal(Buffer.from(resp.value.platformParameters!.quote!.quote).toString(), 'attest:nonce-2');
  });

  test('an AK that is not the enrolled one is DEVICE_NOT_ENROLLED without asking the cluster', async () => {
    let asked = false;
    const api = await client({
      // eslint-disable-next-line require-yield
      async *authenticateDevice() {
        asked = true;
      },
    });
    const e = await authenticateDevice({
      api,
      tpm: fakeTpm(),
      deviceData: DATA,
      certificates: certs,
      expectedCredentialId: 'f'.repeat(64),
    }).catch((x: unknown) => x);
    assert.ok(e instanceof GatehouseError);
    assert.equal(e.code, ErrorCode.DEVICE_NOT_ENROLLED);
    assert.equal(asked, false);
  });

  test('DEVICE_NOT_ENROLLED from the server keeps its code; success without certificates is a protocol error', async () => {
    const refusing = await client({
      // eslint-disable-next-line require-yield
      async *authenticateDevice() {
        throw coded(ErrorCode.DEVICE_NOT_ENROLLED, 'device dev-1 is not enrolled');
      },
    });
    const e = await authenticateDevice({ api: refusing, tpm: fakeTpm(), deviceData: DATA, certificates: certs }).catch(
      (x: unknown) => x,
    );
    assert.equal(serverCode(e), ErrorCode.DEVICE_NOT_ENROLLED);

    const broken = await client({
      async *authenticateDevice(reqs) {
        const it = reqs[Symbol.asyncIterator]();
        await it.next();
        yield { payload: { case: 'tpmChallenge', value: { attestationNonce: Buffer.from('n'), pcrs: [0] } } };
        await it.next();
        yield { payload: { case: 'success', value: { device: DEVICE } } };
      },
    });
    const e2 = await authenticateDevice({ api: broken, tpm: fakeTpm(), deviceData: DATA, certificates: certs }).catch(
      (x: unknown) => x,
    );
    assert.ok(e2 instanceof GatehouseError);
    assert.match(e2.message, /without re-issued certificates/);
  });
});
