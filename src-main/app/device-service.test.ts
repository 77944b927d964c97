// DeviceService's own rules against an in-memory core (test-support/fake-device-core.ts): the
// order of progress events, what a successful enrollment changes, a failed step, the status
// mapping, and the reaction to the shared enrollment file. The real core, cluster and swtpm are
// in integration/device-service.test.ts.
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventChannel, EventPayloads } from '../ipc/contract.ts';
import { DeviceService } from './device-service.ts';
import { AppEvents } from './events.ts';
import { silentAppLogger } from './logger.ts';
import {
  ENROLL_STEPS,
  FakeDeviceCore,
  FakeDeviceSessions,
  fakeProfile,
  TRUSTED_DEVICE,
} from './test-support/fake-device-core.ts';

const PROXY = '127.0.0.1:3080';
const OTHER = '127.0.0.1:4080';

describe('DeviceService', () => {
  let core: FakeDeviceCore;
  let sessions: FakeDeviceSessions;
  let events: Array<[EventChannel, unknown]>;
  let service: DeviceService;

  beforeEach(() => {
    core = new FakeDeviceCore();
    sessions = new FakeDeviceSessions();
    const bus = new AppEvents(silentAppLogger);
    events = [];
    bus.on(<E extends EventChannel>(e: E, p: EventPayloads[E]) => events.push([e, p]));
    service = new DeviceService({
      core,
      sessions,
      events: bus,
      clock: () => new Date('2030-01-01T00:00:00Z'),
      log: silentAppLogger,
      version: '1.2.3',
    });
  });

  test('enrolling reports every step running then done, in order, then device.changed; the session is trusted', async () => {
    const before = fakeProfile(PROXY);
    sessions.logins.set(PROXY, before);
    const r = await service.enroll({ proxy: PROXY, token: 'tok' });
    assert.deepEqual(
      events
        .filter(([e]) => e === 'device.enrollProgress')
        .map(([, p]) => {
          const q = p as EventPayloads['device.enrollProgress'];
          return `${q.step}:${q.state}`;
        }),
      ENROLL_STEPS.flatMap((s) => [`${s}:running`, `${s}:done`]),
    );
    assert.deepEqual(events.at(-1), ['device.changed', { proxy: PROXY, reason: 'enrolled' }]);
    assert.equal(r.session.deviceTrusted, true);
    assert.equal(r.deviceId, 'dev-1');
    assert.equal(r.totalMs, 12.5);
    assert.deepEqual(core.calls, [`enroll ${PROXY} alice token`]);
    // The old login's route certificates carry no device fields: new gateway connections must not use them.
    assert.ok(core.forgotten.includes(before));
    assert.deepEqual(sessions.watched, [PROXY]);
  });

  test('auto-enroll passes auto; a failed step is reported failed with its coded error and nothing else changes', async () => {
    sessions.logins.set(PROXY, fakeProfile(PROXY));
    core.failAt = 'activate-credential';
    await assert.rejects(service.enroll({ proxy: PROXY, auto: true }), { code: 'BAD_CREDENTIALS' });
    assert.deepEqual(core.calls, [`enroll ${PROXY} alice auto`]);
    const progress = events.map(([, p]) => p as EventPayloads['device.enrollProgress']);
    assert.deepEqual(
      progress.map((p) => `${p.step}:${p.state}`),
      [
        'check-tpm:running',
        'check-tpm:done',
        'create-ak:running',
        'create-ak:done',
        'activate-credential:running',
        'activate-credential:failed',
      ],
    );
    assert.deepEqual(progress.at(-1)?.error, {
      code: 'BAD_CREDENTIALS',
      message: 'the enroll token expired',
      details: { step: 'activate-credential', reason: 'expired' },
    });
    assert.equal(
      events.some(([e]) => e === 'device.changed'),
      false,
    );
    assert.deepEqual(sessions.watched, []);
  });

  test('enrolling without a login is NOT_LOGGED_IN before any step', async () => {
    await assert.rejects(service.enroll({ proxy: PROXY, token: 'tok' }), { code: 'NOT_LOGGED_IN' });
    assert.deepEqual(events, []);
    assert.deepEqual(core.calls, []);
  });

  test("status asks for the selected cluster's login by default and maps the cluster error to an IpcError", async () => {
    sessions.logins.set(PROXY, fakeProfile(PROXY));
    sessions.selected = PROXY;
    core.status = {
      assetTag: 'TAG-1',
      assetTagSource: 'machine-id',
      osType: 'linux',
      osName: 'Debian GNU/Linux 12 (bookworm)',
      hostname: 'h1',
      tpm: { state: 'missing', tcti: 'device:/dev/tpmrm0', reason: '/dev/tpmrm0 does not exist' },
      tpmProbeMs: 0.4,
      tpmProbeCached: true,
      clusterError: { code: 'PROXY_UNREACHABLE', message: 'cannot reach the proxy' },
      // A field the core may add that the contract does not name stays in main.
      ...({ internalNote: 'x' } as object),
    };
    const v = await service.status({});
    assert.deepEqual(core.calls, [`status ${PROXY} alice cached`]);
    assert.deepEqual(v.clusterError, { code: 'PROXY_UNREACHABLE', message: 'cannot reach the proxy' });
    assert.equal('internalNote' in v, false);
    assert.equal(v.tpm.state, 'missing');
    await service.status({ proxy: OTHER, refresh: true });
    assert.equal(core.calls[1], `status ${OTHER} - refresh`);
  });

  test('myDevices needs a login; diagnostics pass the app version', async () => {
    await assert.rejects(service.myDevices(PROXY), { code: 'NOT_LOGGED_IN' });
    sessions.logins.set(PROXY, fakeProfile(PROXY));
    assert.equal((await service.myDevices(PROXY))[0]?.thisDevice, true);
    assert.equal((await service.diagnostics({ proxy: PROXY })).text, 'Gatehouse device diagnostics');
    assert.deepEqual(core.calls, [`myDevices ${PROXY} alice`, `diagnostics ${PROXY} 1.2.3`]);
  });

  test('the enrollment file changing re-authenticates valid untrusted logins only, and says so', async () => {
    sessions.logins.set(PROXY, fakeProfile(PROXY));
    sessions.logins.set(OTHER, fakeProfile(OTHER, { device: TRUSTED_DEVICE }));
    sessions.logins.set('127.0.0.1:5080', fakeProfile('127.0.0.1:5080', { validUntil: '2029-01-01T00:00:00Z' }));
    sessions.logins.set('127.0.0.1:6080', fakeProfile('127.0.0.1:6080', { deviceTrustMode: 'off' }));
    core.authResults.set(PROXY, fakeProfile(PROXY, { device: TRUSTED_DEVICE }));
    await service.enrollmentFileChanged();
    assert.deepEqual(core.calls, [`authenticate ${PROXY}`], 'trusted, expired and mode-off logins are left alone');
    assert.deepEqual(events, [
      ['device.changed', { reason: 'enrollment-file' }],
      ['device.changed', { proxy: PROXY, reason: 'authenticated' }],
    ]);
    assert.equal(sessions.profileOf(PROXY)?.device, TRUSTED_DEVICE);
  });

  test('an enrollment in progress does not react to its own write of the enrollment file', async () => {
    sessions.logins.set(PROXY, fakeProfile(PROXY));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const original = core.enrollDevice.bind(core);
    core.enrollDevice = async (opts) => {
      await gate;
      return original(opts);
    };
    const enrolling = service.enroll({ proxy: PROXY, token: 'tok' });
    await service.enrollmentFileChanged();
    release();
    await enrolling;
    assert.equal(
      events.some(([, p]) => (p as { reason?: string }).reason === 'enrollment-file'),
      false,
    );
    assert.equal(core.calls.filter((c) => c.startsWith('authenticate')).length, 0);
  });
});
