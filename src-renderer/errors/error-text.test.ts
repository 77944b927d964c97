import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APP_UNTRUSTED_DEVICE_MESSAGE, APP_UNTRUSTED_DEVICE_REMEDY } from '../../src-shared/app-pages.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import { denialReason, describeError } from './error-text.ts';
import { lostConnectionError } from '../bridge/wire-client.ts';

test('every error code has words and a next step of its own', () => {
  const seen = new Set<string>();
  for (const code of Object.values(ErrorCode)) {
    const t = describeError({ code, message: 'main said so' });
    assert.ok(t.message.length > 5, `${code}: empty message`);
    assert.match(t.message, /[.!?]$/, `${code}: message is not a sentence`);
    assert.ok(t.nextStep.length > 5, `${code}: empty next step`);
    assert.notEqual(t.message, 'Something went wrong.', `${code} fell through to the default branch`);
    seen.add(`${t.message}|${t.nextStep}`);
  }
  // INVALID_RESOURCE and UNKNOWN_KIND share a text on purpose; every other code has its own.
  assert.equal(seen.size, Object.values(ErrorCode).length - 1);
});

test('bad credentials', () => {
  const t = describeError({ code: ErrorCode.BAD_CREDENTIALS, message: 'invalid user or password' });
  assert.equal(t.message, 'Wrong user name, password or one-time code.');
  assert.equal(t.nextStep, 'Check them and try again.');
  assert.equal(t.detail, undefined, "main's wording could tell which part was wrong; don't show it");
});

test('unreachable proxy names the address from details, else from context', () => {
  const withDetails = describeError({
    code: ErrorCode.PROXY_UNREACHABLE,
    message: 'cannot reach the proxy at p.example:3080: connect ECONNREFUSED',
    details: { proxy: 'p.example:3080' },
  });
  assert.equal(withDetails.message, "Can't reach the proxy at p.example:3080.");
  assert.equal(withDetails.nextStep, 'Check the address and that the cluster is running.');
  assert.match(withDetails.detail!, /ECONNREFUSED/);
  const fromContext = describeError({ code: ErrorCode.PROXY_UNREACHABLE, message: 'x' }, { proxy: '10.0.0.1:3080' });
  assert.equal(fromContext.message, "Can't reach the proxy at 10.0.0.1:3080.");
  assert.equal(describeError({ code: ErrorCode.PROXY_UNREACHABLE, message: '' }).message, "Can't reach the proxy.");
});

test('an SSH denial shows the authorizer reason and how to fix it', () => {
  const t = describeError({
    code: ErrorCode.ACCESS_DENIED,
    message: 'ssh: rejected: administratively prohibited (login "root" is not allowed on node "db1" by roles dev)',
    details: { node: 'db1' },
  });
  assert.equal(t.denial?.reason, 'Login "root" is not allowed on node "db1" by roles dev.');
  assert.equal(t.message, 'Access denied: Login "root" is not allowed on node "db1" by roles dev.');
  assert.match(t.denial!.why, /roles/);
  assert.match(t.denial!.fix, /administrator/);
});

test('denial reasons from other paths are kept as they are', () => {
  assert.equal(denialReason('your roles allow no logins on nodes; ask your administrator'),
    'Your roles allow no logins on nodes; ask your administrator.'); // prettier-ignore
  assert.equal(denialReason(''), 'The cluster refused this request.');
  assert.equal(denialReason('ssh: rejected: administratively prohibited ()'), 'The cluster refused this request.');
});

test('expired and missing sessions ask to log in again', () => {
  assert.equal(describeError({ code: ErrorCode.CERT_EXPIRED, message: 'x' }).relogin, true);
  assert.equal(describeError({ code: ErrorCode.NOT_LOGGED_IN, message: 'x' }).relogin, true);
  assert.equal(describeError({ code: ErrorCode.BAD_CREDENTIALS, message: 'x' }).relogin, undefined);
});

test('a lost connection is not described as an internal error', () => {
  const t = describeError(lostConnectionError('socket closed (1006)'));
  assert.equal(t.message, 'Lost connection to the app.');
  const internal = describeError({ code: ErrorCode.INTERNAL, message: 'internal error' });
  assert.equal(internal.message, 'Something went wrong inside Gatehouse.');
});

test('a code this renderer does not know yet still reads as an error', () => {
  const t = describeError({ code: 'SHINY_NEW' as ErrorCode, message: 'from a newer app' });
  assert.equal(t.message, 'Something went wrong.');
  assert.match(t.detail!, /SHINY_NEW: from a newer app/);
});

test('the unauthorized-device refusal says why and how to fix it: enroll this device, log out and in again', () => {
  const t = describeError({
    code: ErrorCode.DEVICE_UNTRUSTED,
    message: 'ssh: rejected: administratively prohibited (unauthorized device)',
    details: { node: 'web-1' },
  });
  assert.equal(t.message, 'Access denied: Unauthorized device.');
  assert.equal(t.denial?.reason, 'Unauthorized device.');
  assert.match(t.denial!.why, /trusted device/);
  assert.match(t.denial!.fix, /gate device enroll" \(it asks for the token\)/);
  assert.match(t.denial!.fix, /log out and log in again/);
  assert.equal(t.detail, undefined, 'no raw message or stack below the panel');
});

test('a lock denial says who can lift it: contact your administrator', () => {
  const t = describeError({
    code: ErrorCode.ACCESS_DENIED,
    message: 'ssh: rejected: administratively prohibited (lock targeting Device:"6f1c2a8e" is in force: stolen laptop)',
  });
  assert.equal(t.message, 'Access denied: Lock targeting Device:"6f1c2a8e" is in force: stolen laptop.');
  assert.equal(t.nextStep, 'Contact your administrator.');
  assert.match(t.denial!.fix, /only they can lift the lock/);
  const login = describeError({ code: ErrorCode.ACCESS_DENIED, message: 'lock targeting User:"alice" is in force' });
  assert.equal(login.nextStep, 'Contact your administrator.');
});

test('the account lockout reads as a lock, not as a short throttle', () => {
  const locked = describeError({
    code: ErrorCode.RATE_LIMITED,
    message:
      'too many failed login attempts; try again in 1800 s (user "bob" is locked; an administrator can lift the lock)',
  });
  assert.equal(locked.message, 'This account is locked after too many failed login attempts.');
  assert.match(locked.nextStep, /administrator to lift it/);
  const throttled = describeError({
    code: ErrorCode.RATE_LIMITED,
    message: 'too many failed login attempts; try again in 30 s',
  });
  assert.equal(throttled.message, 'Too many attempts in a short time.');
});

test('database gateways: a refused db user, a taken local port, a missing client program', () => {
  const denied = describeError({
    code: ErrorCode.ACCESS_DENIED,
    message: 'access to db denied: db user "bob", db name "sales"',
  });
  assert.equal(denied.message, 'Access denied: Access to db denied: db user "bob", db name "sales".');
  assert.match(denied.denial!.fix, /database user and name your roles allow/);

  const device = describeError({ code: ErrorCode.DEVICE_UNTRUSTED, message: 'unauthorized device' });
  assert.equal(device.message, 'Access denied: Unauthorized device.');
  assert.match(device.denial!.fix, /gate device enroll/, 'the same remedy as SSH');

  const port = describeError({
    code: ErrorCode.CONFLICT,
    message: 'local port 5432 is already in use; choose another',
    details: { port: 5432 },
  });
  assert.deepEqual(port, { message: 'Local port 5432 is already in use.', nextStep: 'Choose another port.' });

  const missing = describeError({
    code: ErrorCode.NOT_FOUND,
    message: 'mariadb or mysql is not installed (looked in PATH); install the mariadb-client package',
    details: { programs: ['mariadb', 'mysql'], package: 'mariadb-client' },
  });
  assert.equal(missing.message, 'mariadb or mysql is not installed on this computer.');
  assert.match(missing.nextStep, /Install the mariadb-client package/);
});

test('apps: an untrusted device gets the app remedy (the page’s words); a role denial names the app', () => {
  const device = describeError({ code: ErrorCode.DEVICE_UNTRUSTED, message: APP_UNTRUSTED_DEVICE_MESSAGE });
  assert.equal(device.message, 'Access denied: Access to this app requires a trusted device.');
  assert.equal(device.denial?.fix, APP_UNTRUSTED_DEVICE_REMEDY);
  assert.match(device.denial?.why ?? '', /role that allows this app requires a trusted device/);

  const roles = describeError({
    code: ErrorCode.ACCESS_DENIED,
    message: 'access to app denied: app "grafana" is denied by role "no-prod"',
  });
  assert.equal(roles.message, 'Access denied: Access to app denied: app "grafana" is denied by role "no-prod".');
  assert.match(roles.denial?.fix ?? '', /role that allows this app/);
});
