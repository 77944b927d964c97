// Display data for the device screen's tests: this device, what a cluster knows about it, the
// user's devices, and an enrollment result. Shapes of the contract, with plain made-up values.
import type {
  ClusterDeviceView,
  EnrollResult,
  MyDeviceView,
  SessionInfo,
  ThisDeviceView,
  TpmProbeView,
} from '../../src-main/ipc/contract.ts';

export const CREDENTIAL = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

export const presentTpm = (over: Partial<TpmProbeView> = {}): TpmProbeView => ({
  state: 'present',
  tcti: 'swtpm:host=127.0.0.1,port=2321',
  manufacturer: 'IBM',
  vendor: 'SW   TPM',
  firmwareVersion: '8217.4131.22.13379',
  ekCertificate: true,
  credentialId: CREDENTIAL,
  ...over,
});

export const clusterDevice = (over: Partial<ClusterDeviceView> = {}): ClusterDeviceView => ({
  cluster: 'demo',
  proxy: 'localhost:3080',
  registered: true,
  enrolled: false,
  autoEnrollAvailable: false,
  adminCommand: 'gatectl devices add --asset-tag PF3ABC --os linux --enroll',
  deviceTrustMode: 'required',
  ...over,
});

export const thisDevice = (over: Partial<ThisDeviceView> = {}): ThisDeviceView => ({
  assetTag: 'PF3ABC',
  assetTagSource: 'dmi:product_serial',
  osType: 'linux',
  osName: 'Debian GNU/Linux 12 (bookworm)',
  hostname: 'laptop-7',
  tpm: presentTpm(),
  cluster: clusterDevice(),
  session: { deviceTrusted: false, reason: 'This device is not enrolled.', validUntil: '2030-01-01T00:00:00Z' },
  tpmProbeMs: 12,
  tpmProbeCached: false,
  ...over,
});

export const myDevice = (over: Partial<MyDeviceView> = {}): MyDeviceView => ({
  id: 'd-1',
  assetTag: 'PF3ABC',
  osType: 'linux',
  enrolled: true,
  lastSeen: '2026-12-07T09:00:00Z',
  thisDevice: true,
  ...over,
});

export const trustedSession = (over: Partial<SessionInfo> = {}): SessionInfo => ({
  user: 'alice',
  roles: ['dev'],
  logins: ['alice'],
  validUntil: '2030-01-01T00:00:00Z',
  expired: false,
  deviceTrusted: true,
  deviceTrustState: 'trusted',
  deviceTrustMode: 'required',
  deviceTrustRequired: true,
  device: { assetTag: 'PF3ABC', credentialId: CREDENTIAL, attestationType: 'ekcert', osType: 'linux' },
  ...over,
});

export const enrollResult = (over: Partial<EnrollResult> = {}): EnrollResult => ({
  session: trustedSession(),
  deviceId: 'd-1',
  credentialId: CREDENTIAL,
  totalMs: 840,
  ...over,
});
