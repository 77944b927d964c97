// How API failures reach callers (see integration/cluster-client.test.ts for real calls).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Code, ConnectError } from '@connectrpc/connect';
import { ERROR_REASON_HEADER, ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { ERROR_CODE_HEADER, inferReason, mapApiError } from './api-errors.ts';
import { parseProxyAddress } from './proxy-address.ts';

const proxy = parseProxyAddress('proxy.example:3080');

describe('mapApiError', () => {
  test("the server's code header wins", async () => {
    const e = new ConnectError('invalid user name, password or one-time code', Code.Unauthenticated, {
      [ERROR_CODE_HEADER]: 'BAD_CREDENTIALS',
    });
    const g = await mapApiError(e, proxy);
    assert.equal(g.code, ErrorCode.BAD_CREDENTIALS);
    assert.equal(g.message, 'invalid user name, password or one-time code');
  });

  test("the server's reason header becomes details.reason (the app words expired / used / auto_enroll_off)", async () => {
    const e = new ConnectError('this enroll token expired at ...', Code.Unauthenticated, {
      [ERROR_CODE_HEADER]: 'BAD_CREDENTIALS',
      [ERROR_REASON_HEADER]: 'expired',
    });
    assert.deepEqual((await mapApiError(e, proxy)).details, { reason: 'expired' });
    const noReason = new ConnectError('no', Code.PermissionDenied, { [ERROR_CODE_HEADER]: 'ACCESS_DENIED' });
    assert.equal((await mapApiError(noReason, proxy)).details, undefined);
  });

  test('an unknown code header falls back to the Connect code', async () => {
    const e = new ConnectError('no', Code.PermissionDenied, { [ERROR_CODE_HEADER]: 'FROM_THE_FUTURE' });
    assert.equal((await mapApiError(e, proxy)).code, ErrorCode.ACCESS_DENIED);
  });

  test('network causes become PROXY_UNREACHABLE naming the address', async () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const g = await mapApiError(new ConnectError('x', Code.Unavailable, undefined, undefined, cause), proxy);
    assert.equal(g.code, ErrorCode.PROXY_UNREACHABLE);
    assert.equal(g.message, 'cannot reach the proxy at proxy.example:3080: ECONNREFUSED');
    assert.equal(
      (await mapApiError(new ConnectError('slow', Code.DeadlineExceeded), proxy)).code,
      ErrorCode.PROXY_UNREACHABLE,
    );
  });

  test('certificate failures go to the explainer', async () => {
    const cause = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    let asked = false;
    const g = await mapApiError(new ConnectError('x', Code.Unknown, undefined, undefined, cause), proxy, async () => {
      asked = true;
      return new GatehouseError(ErrorCode.PROXY_UNTRUSTED, 'explained');
    });
    assert.equal(asked, true);
    assert.equal(g.message, 'explained');
  });

  test('GatehouseErrors pass through; anything else is INTERNAL', async () => {
    const mine = new GatehouseError(ErrorCode.NOT_LOGGED_IN, 'x');
    assert.equal(await mapApiError(mine, proxy), mine);
    assert.equal((await mapApiError(new Error('boom'), proxy)).code, ErrorCode.INTERNAL);
  });

  test("details.reason: from the server's reason header, else from the words of older clusters", async () => {
    const withHeader = new ConnectError('whatever', Code.Unauthenticated, {
      [ERROR_CODE_HEADER]: 'BAD_CREDENTIALS',
      [ERROR_REASON_HEADER]: 'expired',
    });
    assert.deepEqual((await mapApiError(withHeader, proxy)).details, { reason: 'expired' });
    const old = new ConnectError('this enroll token was already used; ask an admin', Code.Unauthenticated, {
      [ERROR_CODE_HEADER]: 'BAD_CREDENTIALS',
    });
    assert.deepEqual((await mapApiError(old, proxy)).details, { reason: 'used' });
    const none = new ConnectError('invalid password', Code.Unauthenticated, { [ERROR_CODE_HEADER]: 'BAD_CREDENTIALS' });
    assert.equal((await mapApiError(none, proxy)).details, undefined);
  });
});

test('inferReason: the fixed words of enroll-token and auto-enroll refusals', () => {
  const cases: [string, string, string | undefined][] = [
    ['BAD_CREDENTIALS', 'this enroll token expired at 2026-12-07T10:00:00Z; ask an admin', 'expired'],
    ['BAD_CREDENTIALS', 'unknown or expired enroll token; ask an admin', 'unknown'],
    ['BAD_CREDENTIALS', 'this enroll token was already used; ask an admin', 'used'],
    [
      'ACCESS_DENIED',
      'this device reports serial "A" (linux), but the cluster knows it as "B"/linux',
      'asset_tag_mismatch',
    ],
    ['ACCESS_DENIED', 'auto-enroll is off in this cluster; ask your administrator', 'auto_enroll_off'],
    ['ACCESS_DENIED', 'this device (asset tag "A", linux) is not registered in cluster "c"', 'not_registered'],
    ['ACCESS_DENIED', 'this device (asset tag "A", linux) is already enrolled in cluster "c"', 'already_enrolled'],
    ['ACCESS_DENIED', 'your roles do not allow this', undefined],
    ['BAD_CREDENTIALS', 'invalid user name or password', undefined],
  ];
  for (const [code, message, reason] of cases) assert.equal(inferReason(code, message), reason, message);
});
