import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterSummary, SessionInfo } from '../../src-main/ipc/contract.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import { clusterDevice, enrollResult, myDevice, thisDevice, trustedSession } from '../test-support/device-fixtures.ts';
import { createFakeApi, fail, failWith, ok } from '../test-support/fake-api.ts';
import { createAppStores } from './app-stores.ts';

const PROXY = 'localhost:3080';
const untrusted: SessionInfo = {
  ...trustedSession(),
  deviceTrusted: false,
  deviceTrustState: 'not-enrolled',
  device: undefined,
};
const summary = (session: SessionInfo): ClusterSummary => ({
  proxy: PROXY,
  clusterName: 'demo',
  secondFactor: 'off',
  caFingerprint: 'AB:CD',
  current: true,
  session,
});
const tick = () => new Promise((r) => setImmediate(r));

/** A logged-in app on one cluster whose clusters.list answers with `listed.session`. */
async function world(handlers: Parameters<typeof createFakeApi>[0] = {}) {
  const listed = { session: untrusted };
  const fake = createFakeApi({
    'app.info': () => ok({ version: '1', host: 'browser', platform: 'linux' }),
    'clusters.list': () => ok([summary(listed.session)]),
    'gateways.list': () => ok([]),
    'device.status': () => ok(thisDevice()),
    'device.myDevices': () => ok([myDevice()]),
    ...handlers,
  });
  const stores = createAppStores(fake.api);
  await stores.actions.start();
  return { fake, stores, listed };
}

test('opening This device shows the screen and reads status and my devices for the current cluster', async () => {
  const { fake, stores } = await world();
  stores.actions.openThisDevice();
  assert.equal(stores.ui.getState().view, 'device');
  assert.equal(stores.device.getState().loading, true);
  await tick();
  const s = stores.device.getState();
  assert.equal(s.loading, false);
  assert.equal(s.status?.assetTag, 'PF3ABC');
  assert.equal(s.myDevices?.[0]?.thisDevice, true);
  assert.deepEqual(fake.callsTo('device.status'), [{ proxy: PROXY }]);
  assert.deepEqual(fake.callsTo('device.myDevices'), [{ proxy: PROXY }]);
});

test('Refresh re-probes the TPM (refresh: true); a failed status keeps the error for the screen', async () => {
  let answer = ok(thisDevice());
  const { fake, stores } = await world({ 'device.status': () => answer });
  await stores.actions.refreshThisDevice();
  assert.deepEqual(fake.callsTo('device.status'), [{ proxy: PROXY, refresh: true }]);
  answer = fail(ErrorCode.PROXY_UNREACHABLE, 'connect ECONNREFUSED');
  await stores.actions.refreshThisDevice();
  assert.equal(stores.device.getState().statusError?.code, ErrorCode.PROXY_UNREACHABLE);
  assert.equal(stores.device.getState().status?.assetTag, 'PF3ABC', 'the last good answer stays on screen');
});

test('a slower earlier load does not overwrite a newer one', async () => {
  const answers: Array<(v: ReturnType<typeof ok<ReturnType<typeof thisDevice>>>) => void> = [];
  const { stores } = await world({ 'device.status': () => new Promise((resolve) => answers.push(resolve)) });
  const first = stores.device.getState().load(PROXY);
  const second = stores.device.getState().load(PROXY, { refresh: true });
  answers[1]!(ok(thisDevice({ hostname: 'newer' })));
  await second;
  answers[0]!(ok(thisDevice({ hostname: 'older' })));
  await first;
  assert.equal(stores.device.getState().status?.hostname, 'newer');
});

test('enrolling with a token: steps follow the progress events, then the session reads Trusted without a login', async () => {
  let finish: (() => void) | undefined;
  const { fake, stores, listed } = await world({
    'device.enroll': () =>
      new Promise((resolve) => {
        finish = () => resolve(ok(enrollResult()));
      }),
  });
  await stores.device.getState().load(PROXY);
  const enrolled = stores.device.getState().startEnroll(PROXY, { token: '  tok-123 ' });
  assert.deepEqual(fake.callsTo('device.enroll'), [{ proxy: PROXY, token: 'tok-123' }]);
  const stateOf = (name: string) => stores.device.getState().enroll.steps.find((s) => s.name === name)?.state;
  assert.equal(stateOf('check-tpm'), 'pending');
  fake.emit('device.enrollProgress', { proxy: PROXY, step: 'check-tpm', state: 'done' });
  fake.emit('device.enrollProgress', { proxy: PROXY, step: 'create-ak', state: 'running' });
  fake.emit('device.enrollProgress', { proxy: 'other:3080', step: 'quote', state: 'failed' });
  assert.equal(stateOf('check-tpm'), 'done');
  assert.equal(stateOf('create-ak'), 'running');
  assert.equal(stateOf('quote'), 'pending', "another cluster's events are not ours");
  listed.session = trustedSession();
  finish!();
  assert.equal(await enrolled, true);
  const s = stores.device.getState();
  assert.equal(s.enroll.phase, 'done');
  assert.ok(s.enroll.steps.every((step) => step.state === 'done'));
  assert.equal(stores.session.getState().clusters[0]?.session?.deviceTrustState, 'trusted');
  assert.equal(fake.callsTo('auth.login').length, 0, 'no new login');
  assert.equal(fake.callsTo('device.status').length, 2, 'the screen re-read after enrolling');
});

test('a failed enrollment marks its step failed and keeps the coded error; a second click waits for the first', async () => {
  const { fake, stores } = await world({
    'device.enroll': async () => {
      await tick();
      return failWith(ErrorCode.BAD_CREDENTIALS, 'token expired', { reason: 'expired', step: 'activate-credential' });
    },
  });
  await stores.device.getState().load(PROXY);
  const first = stores.device.getState().startEnroll(PROXY, { token: 'tok' });
  assert.equal(await stores.device.getState().startEnroll(PROXY, { auto: true }), false);
  fake.emit('device.enrollProgress', { proxy: PROXY, step: 'check-tpm', state: 'done' });
  fake.emit('device.enrollProgress', { proxy: PROXY, step: 'create-ak', state: 'done' });
  assert.equal(await first, false);
  const { enroll } = stores.device.getState();
  assert.equal(enroll.phase, 'failed');
  assert.equal(enroll.error?.details?.reason, 'expired');
  assert.deepEqual(
    enroll.steps.map((s) => s.state),
    ['done', 'done', 'failed', 'pending', 'pending', 'pending'],
  );
  assert.equal(fake.callsTo('device.enroll').length, 1);
});

test('auto-enroll sends auto: true and no token', async () => {
  const { fake, stores } = await world({ 'device.enroll': () => ok(enrollResult()) });
  await stores.device.getState().load(PROXY);
  assert.equal(await stores.device.getState().startEnroll(PROXY, { auto: true }), true);
  assert.deepEqual(fake.callsTo('device.enroll'), [{ proxy: PROXY, auto: true }]);
  assert.equal(stores.device.getState().enroll.method, 'auto');
});

test('device.changed (gate enrolled in a terminal, a lock) re-reads the session, and the screen once opened', async () => {
  const { fake, stores, listed } = await world();
  listed.session = trustedSession();
  fake.emit('device.changed', { reason: 'enrollment-file' });
  await tick();
  assert.equal(stores.session.getState().clusters[0]?.session?.deviceTrusted, true);
  assert.equal(fake.callsTo('device.status').length, 0, 'the screen was never opened');
  stores.actions.openThisDevice();
  await tick();
  fake.emit('device.changed', { proxy: PROXY, reason: 'lock' });
  await tick();
  assert.equal(fake.callsTo('device.status').length, 2);
});

test('Copy diagnostics puts main’s text on the clipboard and says Copied; a clipboard failure says what to do', async () => {
  const { fake, stores } = await world({
    'device.diagnostics': () => ok({ text: 'Gatehouse device diagnostics\nasset tag: PF3ABC', json: {} }),
  });
  await stores.device.getState().load(PROXY);
  const clipboard: string[] = [];
  assert.equal(await stores.device.getState().copyDiagnostics(async (t) => void clipboard.push(t)), true);
  assert.deepEqual(clipboard, ['Gatehouse device diagnostics\nasset tag: PF3ABC']);
  assert.deepEqual(fake.callsTo('device.diagnostics'), [{ proxy: PROXY }]);
  assert.equal(stores.device.getState().copied, 'diagnostics');
  const denied = await stores.device.getState().copyText('asset-tag', 'PF3ABC', async () => {
    throw new Error('Document is not focused');
  });
  assert.equal(denied, false);
  assert.equal(stores.device.getState().copied, undefined);
  assert.match(String(stores.device.getState().copyError), /Document is not focused.*select the text/);
});

test('without a login on the cluster, my devices is not asked for', async () => {
  const { fake, stores } = await world({ 'device.status': () => ok(thisDevice({ cluster: clusterDevice() })) });
  await stores.device.getState().load(PROXY, { loggedIn: false });
  assert.equal(fake.callsTo('device.myDevices').length, 0);
  assert.equal(stores.device.getState().myDevices, undefined);
});
