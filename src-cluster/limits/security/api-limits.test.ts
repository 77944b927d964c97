// Issue 11, findings 3 and 5: what an unauthenticated client can make the API read and parse.
// Each test sends the attack to a real in-process daemon over TLS + HTTP/2 and asserts the
// refusal: its Connect code, our stable error code, the field it names, and (for oversize
// bodies) that the daemon stopped reading after about one HTTP/2 flow-control window.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { create, toBinary } from '@bufbuild/protobuf';
import { LoginRequestSchema } from '../../../proto/gen/gatehouse/v1/auth_pb.ts';
import { EnrollDeviceRequestSchema } from '../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ERROR_CODE_HEADER } from '../../../src-shared/errors.ts';
import { API_READ_MAX_BYTES, NAME_MAX_BYTES, UNAUTHENTICATED_READ_MAX_BYTES } from '../limits.ts';
import { connectApi, endStream, envelope, post, startTestDaemon } from './raw-api.ts';

const PING = '/gatehouse.v1.AuthService/Ping';
const LOGIN = '/gatehouse.v1.AuthService/Login';
const CREATE = '/gatehouse.v1.AuthService/CreateResource';
const ENROLL = '/gatehouse.v1.DeviceTrustService/EnrollDevice';
const MB = 1 << 20;
/** What the client may get to send before a refusal: an HTTP/2 flow-control window (64 KiB) plus buffers. */
const READ_AFTER_REFUSAL_MAX = 1 * MB;

let cluster: Awaited<ReturnType<typeof startTestDaemon>>;
before(async () => {
  cluster = await startTestDaemon({ node: false });
});
after(async () => cluster?.stop());

function json(body: Buffer): { code?: string; message?: string } {
  return JSON.parse(body.toString('utf8')) as { code?: string; message?: string };
}

test('a legitimate Ping still answers', async () => {
  const s = connectApi(cluster.proxy.port);
  try {
    const r = await post(s, PING, 'application/json', Buffer.from('{}'));
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(json(r.body).code, undefined);
  } finally {
    s.close();
  }
});

test('a 300 MB Ping with Content-Length is refused resource_exhausted before its body is read', async (t) => {
  const s = connectApi(cluster.proxy.port);
  try {
    const r = await post(s, PING, 'application/proto', 300 * MB, 300 * MB);
    assert.equal(r.status, 429);
    assert.equal(json(r.body).code, 'resource_exhausted');
    assert.match(json(r.body).message!, new RegExp(`at most ${UNAUTHENTICATED_READ_MAX_BYTES} bytes`));
    assert.equal(r.headers[ERROR_CODE_HEADER], 'REQUEST_TOO_LARGE');
    assert.ok(r.sent < READ_AFTER_REFUSAL_MAX, `client got to send ${r.sent} bytes`);
    t.diagnostic(`client got to send ${r.sent} of ${300 * MB} bytes before the refusal`);
  } finally {
    s.close();
  }
});

test('a 300 MB Ping without Content-Length is refused after the cap, not buffered', async (t) => {
  const s = connectApi(cluster.proxy.port);
  try {
    const r = await post(s, PING, 'application/proto', 300 * MB);
    assert.equal(r.status, 429);
    assert.equal(json(r.body).code, 'resource_exhausted');
    assert.equal(r.headers[ERROR_CODE_HEADER], 'REQUEST_TOO_LARGE');
    assert.ok(r.sent < READ_AFTER_REFUSAL_MAX, `client got to send ${r.sent} bytes`);
    t.diagnostic(`client got to send ${r.sent} of ${300 * MB} bytes before the refusal`);
    // The connection is still usable for the next call.
    const ok = await post(s, PING, 'application/json', Buffer.from('{}'));
    assert.equal(ok.status, 200);
  } finally {
    s.close();
  }
});

test('an authenticated-size RPC refuses a body over the 1 MiB overall cap', async () => {
  const s = connectApi(cluster.proxy.port);
  try {
    const r = await post(s, CREATE, 'application/proto', 4 * MB);
    assert.equal(r.status, 429);
    assert.equal(json(r.body).code, 'resource_exhausted');
    assert.match(json(r.body).message!, new RegExp(`at most ${API_READ_MAX_BYTES} bytes`));
  } finally {
    s.close();
  }
});

test('an oversize user name is refused invalid_argument naming the field (binary and JSON)', async () => {
  const s = connectApi(cluster.proxy.port);
  try {
    const user = 'u'.repeat(NAME_MAX_BYTES + 1);
    const bin = toBinary(LoginRequestSchema, create(LoginRequestSchema, { user, password: 'x' }));
    for (const [type, body] of [
      ['application/proto', Buffer.from(bin)],
      ['application/json', Buffer.from(JSON.stringify({ user, password: 'x' }))],
    ] as const) {
      const r = await post(s, LOGIN, type, body);
      assert.equal(r.status, 400, type);
      assert.equal(json(r.body).code, 'invalid_argument');
      assert.match(json(r.body).message!, /request field "user" is too long: 254 bytes, at most 253/);
      assert.equal(r.headers[ERROR_CODE_HEADER], 'BAD_REQUEST');
    }
    // At the limit it is not the size that refuses it (the login's own checks do).
    const atLimit = toBinary(
      LoginRequestSchema,
      create(LoginRequestSchema, { user: 'u'.repeat(NAME_MAX_BYTES), password: 'x' }),
    );
    const r = await post(s, LOGIN, 'application/proto', Buffer.from(atLimit));
    assert.doesNotMatch(json(r.body).message ?? '', /too long/, r.body.toString());
  } finally {
    s.close();
  }
});

test('garbage protobuf bodies answer invalid_argument, not 500 internal', async () => {
  const s = connectApi(cluster.proxy.port);
  try {
    // A field with wire type 7 (does not exist), then a length-delimited field running past the end.
    for (const garbage of [Buffer.from([0x0f, 0xff, 0xff]), Buffer.from([0x0a, 0x7f, 0x41])]) {
      for (const path of [PING, LOGIN]) {
        const r = await post(s, path, 'application/proto', garbage);
        assert.equal(r.status, 400, `${path}: ${r.body.toString()}`);
        assert.equal(json(r.body).code, 'invalid_argument');
        assert.equal(r.headers[ERROR_CODE_HEADER], 'BAD_REQUEST');
      }
    }
  } finally {
    s.close();
  }
});

test('device ceremony streams: garbage and oversize fields are invalid_argument', async () => {
  // The ceremonies need a client certificate; the daemon's admin identity has one.
  const s = connectApi(cluster.proxy.port, cluster.daemon.adminIdentityPath);
  try {
    const garbage = await post(s, ENROLL, 'application/connect+proto', envelope(Buffer.from([0x0f, 0xff])));
    assert.equal(garbage.status, 200);
    assert.equal(endStream(garbage.body).error?.code, 'invalid_argument', garbage.body.toString());

    const msg = create(EnrollDeviceRequestSchema, {
      payload: { case: 'init', value: { token: 't', deviceData: { hostname: 'h'.repeat(300) } } },
    });
    const r = await post(
      s,
      ENROLL,
      'application/connect+proto',
      envelope(Buffer.from(toBinary(EnrollDeviceRequestSchema, msg))),
    );
    const end = endStream(r.body);
    assert.equal(end.error?.code, 'invalid_argument');
    assert.match(end.error!.message, /request field "init\.device_data\.hostname" is too long: 300 bytes/);
  } finally {
    s.close();
  }
});
