// A DeviceCore and DeviceSessions in memory for DeviceService's unit tests: the enrollment walks
// the real step names and can be told to fail at one; device authentication answers as told.
// The real core against a real cluster and swtpm is src-main/app/integration/device-service.test.ts.
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { Profile } from '../../core/profiles.ts';
import type { EnrollStepName, SessionInfo } from '../../ipc/contract.ts';
import type { DeviceCore, DeviceSessions, DeviceStatusSource } from '../device-service.ts';

export const ENROLL_STEPS: EnrollStepName[] = [
  'check-tpm',
  'create-ak',
  'activate-credential',
  'quote',
  'authenticate',
  'done',
];

export function fakeProfile(proxy: string, over: Partial<Profile> = {}): Profile {
  return {
    proxy,
    user: 'alice',
    cluster: 'c1',
    roles: ['access'],
    logins: ['alice'],
    validUntil: '2030-01-01T12:00:00.000Z',
    deviceTrustMode: 'optional',
    ...over,
  } as Profile;
}

export const TRUSTED_DEVICE = {
  deviceId: 'dev-1',
  assetTag: 'TAG-1',
  credentialId: 'ab'.repeat(32),
  osType: 'linux',
  issuedAt: '2030-01-01T00:00:01.000Z',
} as unknown as NonNullable<Profile['device']>;

export class FakeDeviceCore implements DeviceCore {
  readonly deviceHome = '/nonexistent/device';
  failAt: EnrollStepName | undefined;
  status: DeviceStatusSource | undefined;
  /** What authenticateDevice answers per proxy (undefined: stays untrusted). */
  authResults = new Map<string, Profile | undefined>();
  readonly calls: string[] = [];
  readonly forgotten: Profile[] = [];

  async deviceStatus(opts: { proxy?: string; user?: string; refresh?: boolean }): Promise<DeviceStatusSource> {
    this.calls.push(`status ${opts.proxy ?? '-'} ${opts.user ?? '-'} ${opts.refresh ? 'refresh' : 'cached'}`);
    if (!this.status) throw new Error('no status set');
    return this.status;
  }

  async enrollDevice(opts: Parameters<DeviceCore['enrollDevice']>[0]) {
    this.calls.push(`enroll ${opts.proxy} ${opts.user} ${opts.token ? 'token' : 'auto'}`);
    for (const step of ENROLL_STEPS) {
      opts.onStep?.(step, 'running');
      if (step === this.failAt) {
        const e = new GatehouseError(ErrorCode.BAD_CREDENTIALS, 'the enroll token expired', {
          step,
          reason: 'expired',
        });
        opts.onStep?.(step, 'failed', e);
        throw e;
      }
      opts.onStep?.(step, 'done');
    }
    const profile = fakeProfile(opts.proxy, { device: TRUSTED_DEVICE });
    return { profile, deviceId: 'dev-1', credentialId: TRUSTED_DEVICE.credentialId, totalMs: 12.5 };
  }

  async myDevices(proxy: string, user: string) {
    this.calls.push(`myDevices ${proxy} ${user}`);
    return [{ id: 'dev-1', assetTag: 'TAG-1', osType: 'linux', enrolled: true, thisDevice: true }];
  }

  async diagnostics(opts: { proxy?: string; user?: string; version: string }) {
    this.calls.push(`diagnostics ${opts.proxy ?? '-'} ${opts.version}`);
    return { text: 'Gatehouse device diagnostics', json: { client: 'desktop' } };
  }

  async authenticateDevice(profile: Profile): Promise<Profile | undefined> {
    this.calls.push(`authenticate ${profile.proxy}`);
    return this.authResults.get(profile.proxy);
  }

  forgetRouteCertificates(profile: Profile): void {
    this.forgotten.push(profile);
  }

  sessionInfo(profile: Profile): SessionInfo {
    return {
      user: profile.user,
      roles: profile.roles,
      logins: profile.logins,
      validUntil: profile.validUntil,
      expired: false,
      deviceTrusted: profile.device !== undefined,
      deviceTrustState: profile.device ? 'trusted' : 'not-enrolled',
      deviceTrustMode: profile.deviceTrustMode ?? 'off',
      deviceTrustRequired: false,
    };
  }
}

/** Logins by proxy; `require` refuses a missing one like Sessions does. */
export class FakeDeviceSessions implements DeviceSessions {
  readonly logins = new Map<string, Profile>();
  readonly watched: string[] = [];
  selected: string | undefined;

  proxies(): string[] {
    return [...this.logins.keys()];
  }
  profileOf(proxy: string): Profile | undefined {
    return this.logins.get(proxy);
  }
  require(proxy: string): Profile {
    const p = this.logins.get(proxy);
    if (!p) throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, `you are not logged in to ${proxy}; log in first`);
    return p;
  }
  current(): string | undefined {
    return this.selected;
  }
  watch(proxy: string, profile: Profile): void {
    this.watched.push(proxy);
    this.logins.set(proxy, profile);
  }
}
