// The client core's public surface: what the gate CLI, the desktop main process and the browser
// host import. Plain Node; nothing here prints, prompts or exits.
export { GatehouseClient, type GatehouseClientOptions, type ProfileAccess } from './gatehouse-client.ts';
export {
  ClusterClient,
  type AppInfo,
  type ClusterClientDeps,
  type DatabaseInfo,
  type Identity,
  type LoginParams,
  type NodeInfo,
  type PingInfo,
} from './cluster-client.ts';
export {
  ProfileStore,
  isExpired,
  timeLeftMs,
  formatTimeLeft,
  type Profile,
  type ProfileCredentials,
  type ProfilePaths,
} from './profiles.ts';
export {
  RouteCertificates,
  isFresh,
  renewalTime,
  type IssuedRouteCertificate,
  type RouteCertificateRequest,
} from './route-certs.ts';
export { KnownProxies, caFingerprint, normalizeFingerprint, type ProxyPin } from './known-proxies.ts';
export {
  ProxyTrust,
  fetchPresentedChain,
  strictTlsOptions,
  type TrustDecision,
  type TrustOptions,
  type ChainFetcher,
} from './proxy-trust.ts';
export {
  DeviceTrust,
  defaultDeviceAgent,
  deviceTrustNextStep,
  deviceTrustText,
  type DeviceAgent,
  type DeviceTrustResult,
  type EnrollAndTrustOutcome,
  type EnrollMethod,
  type EnrollOutcome,
  type LoginOutcome,
} from './device-trust.ts';
export { adoptLegacyDeviceStore, legacyDeviceDirs, resolveDeviceHome, ENROLLMENTS_FILE } from './device-home.ts';
export { ENROLL_STEPS, type EnrollStepListener, type EnrollStepName } from './enroll-steps.ts';
export { TpmProbeCache, probeTpm, type TpmProbe } from './tpm-probe.ts';
export { DeviceTrustJournal, JOURNAL_FILE, type JournalEntry } from './device-trust-journal.ts';
export {
  adminCommandFor,
  type ClusterDeviceStatus,
  type DeviceStatusReport,
  type MyDeviceInfo,
} from './device-status.ts';
export { collectDeviceDiagnostics, diagnosticsText, type DeviceDiagnostics } from './device-diagnostics.ts';
export { checkReissuedCertificates, sshCertDeviceFields, tlsCertDeviceFields } from './device-fields.ts';
export { mapApiError, ERROR_CODE_HEADER } from './api-errors.ts';
export { generateClientKey, loadClientKey, type ClientKey } from './keys.ts';
export { parseProxyAddress, DEFAULT_PROXY_PORT, type ProxyAddress } from './proxy-address.ts';
export { resolveGatehouseHome, writeFileAtomic, ensurePrivateDir } from './files.ts';
export { systemClock, silentLogger, type Clock, type CoreLogger } from './types.ts';
