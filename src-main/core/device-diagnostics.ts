// What a person hands their helpdesk when device trust does not work: one JSON-safe object
// ("Copy diagnostics" in the app, `gate device diagnose --format json`) and its text form. Built
// only from display data (the "This device" report, the profile's device fields, the journal):
// never keys, tokens or certificates, so pasting it into a ticket leaks nothing.
import type { ClusterDeviceStatus, DeviceStatusReport } from './device-status.ts';
import type { DeviceTrustJournal, JournalEntry } from './device-trust-journal.ts';
import type { Profile } from './profiles.ts';
import type { TpmProbe } from './tpm-probe.ts';
import type { Clock } from './types.ts';

/** How many journal entries diagnostics carry. */
export const DIAGNOSTICS_JOURNAL_ENTRIES = 10;

// A type alias (not an interface) so it is assignable to Record<string, unknown> (IPC's JSON).
export type DeviceDiagnostics = {
  generatedAt: string;
  client: { name: 'gate' | 'desktop'; version: string };
  login?: { cluster: string; proxy: string; user: string };
  device: {
    assetTag: string;
    assetTagSource: string;
    assetTagNote?: string;
    osType: string;
    osName: string;
    hostname: string;
  };
  tpm: TpmProbe & { probeMs: number; cached: boolean };
  localEnrollment?: DeviceStatusReport['localEnrollment'];
  clusterStatus?: ClusterDeviceStatus;
  clusterError?: DeviceStatusReport['clusterError'];
  session?: {
    deviceTrusted: boolean;
    mode: string;
    required: boolean;
    deviceId?: string;
    assetTag?: string;
    credentialId?: string;
    validUntil: string;
    reason?: string;
    nextStep?: string;
  };
  recentErrors: JournalEntry[];
};

export interface DiagnosticsDeps {
  status: DeviceStatusReport;
  profile?: Profile;
  journal: Pick<DeviceTrustJournal, 'recent'>;
  clock: Clock;
  client: 'gate' | 'desktop';
  version: string;
}

export function collectDeviceDiagnostics(deps: DiagnosticsDeps): DeviceDiagnostics {
  const { status, profile } = deps;
  const d: DeviceDiagnostics = {
    generatedAt: deps.clock().toISOString(),
    client: { name: deps.client, version: deps.version },
    device: {
      assetTag: status.assetTag,
      assetTagSource: status.assetTagSource,
      ...(status.assetTagNote ? { assetTagNote: status.assetTagNote } : {}),
      osType: status.osType,
      osName: status.osName,
      hostname: status.hostname,
    },
    tpm: { ...status.tpm, probeMs: status.tpmProbeMs, cached: status.tpmProbeCached },
    recentErrors: deps.journal.recent(DIAGNOSTICS_JOURNAL_ENTRIES),
  };
  if (profile) d.login = { cluster: profile.cluster, proxy: profile.proxy, user: profile.user };
  if (status.localEnrollment) d.localEnrollment = status.localEnrollment;
  if (status.cluster) d.clusterStatus = status.cluster;
  if (status.clusterError) d.clusterError = status.clusterError;
  if (profile && status.session) {
    d.session = {
      deviceTrusted: status.session.deviceTrusted,
      mode: profile.deviceTrustMode ?? 'off',
      required: profile.deviceTrustRequired === true,
      ...(profile.device
        ? {
            deviceId: profile.device.deviceId,
            assetTag: profile.device.assetTag,
            credentialId: profile.device.credentialId,
          }
        : {}),
      validUntil: status.session.validUntil,
      ...(status.session.reason ? { reason: status.session.reason } : {}),
      ...(status.session.nextStep ? { nextStep: status.session.nextStep } : {}),
    };
  }
  return d;
}

const yesNo = (b: boolean | undefined): string => (b === undefined ? '-' : b ? 'yes' : 'no');

function row(label: string, value: string | undefined): string {
  return `  ${`${label}:`.padEnd(20)}${value === undefined || value === '' ? '-' : value}`;
}

function tpmLines(t: DeviceDiagnostics['tpm']): string[] {
  const lines = [
    'TPM',
    row('State', t.state),
    row('TCTI', t.tcti),
    row('Probe', `${t.probeMs} ms${t.cached ? ' (cached)' : ''}`),
  ];
  if (t.state === 'present') {
    lines.push(
      row('Manufacturer', t.manufacturer),
      row('Vendor', t.vendor),
      row('Firmware', t.firmwareVersion),
      row('EK certificate', yesNo(t.ekCertificate)),
      row('Credential ID', t.credentialId),
    );
  } else {
    lines.push(row('Reason', t.reason), row('Fix', t.fix), row('Code', t.code));
  }
  return lines;
}

function clusterLines(d: DeviceDiagnostics): string[] {
  const c = d.clusterStatus;
  if (!c && !d.clusterError) return [];
  if (!c) return ['', 'Cluster', row('Error', `${d.clusterError!.message} [${d.clusterError!.code}]`)];
  return [
    '',
    `Cluster ${c.cluster} (${c.proxy})`,
    row('Device trust mode', c.deviceTrustMode),
    row('Registered', yesNo(c.registered)),
    row('Enrolled', yesNo(c.enrolled)),
    row('Device ID', c.deviceId),
    row('Credential ID', c.credentialId),
    row('Credential matches', yesNo(c.credentialMatches)),
    row('Attestation type', c.attestationType),
    row('Enrolled at', c.enrolledAt),
    row('Auto-enroll', c.autoEnrollAvailable ? 'available' : 'not available'),
    ...(c.lock ? [row('Lock', `${c.lock.message} (${c.lock.target})`)] : []),
    ...(!c.registered ? [row('Admin command', c.adminCommand)] : []),
  ];
}

/** The text "Copy diagnostics" puts on the clipboard and `gate device diagnose` prints. */
export function diagnosticsText(d: DeviceDiagnostics): string {
  const lines = [
    `Gatehouse device diagnostics (${d.client.name} ${d.client.version}, ${d.generatedAt})`,
    ...(d.login ? [row('Login', `${d.login.user} @ ${d.login.cluster} (${d.login.proxy})`)] : [row('Login', 'none')]),
    '',
    'Device',
    row('Asset tag', d.device.assetTag),
    row('Asset tag source', d.device.assetTagSource + (d.device.assetTagNote ? ` (${d.device.assetTagNote})` : '')),
    row('OS', `${d.device.osName} (${d.device.osType})`),
    row('Hostname', d.device.hostname),
    '',
    ...tpmLines(d.tpm),
    '',
    'Local enrollment',
    ...(d.localEnrollment
      ? [
          row('Device ID', d.localEnrollment.deviceId),
          row('Credential ID', d.localEnrollment.credentialId),
          row('Attestation type', d.localEnrollment.attestationType),
          row('Enrolled at', d.localEnrollment.enrolledAt),
        ]
      : [row('Record', 'none for this cluster')]),
    ...clusterLines(d),
  ];
  if (d.session) {
    const s = d.session;
    lines.push(
      '',
      'This session',
      row('Device-trusted', yesNo(s.deviceTrusted)),
      row('Mode', `${s.mode}${s.required ? ' (required for this user)' : ''}`),
      ...(s.deviceId ? [row('Device', `${s.deviceId} "${s.assetTag ?? ''}" credential ${s.credentialId ?? '-'}`)] : []),
      row('Valid until', s.validUntil),
      ...(s.reason ? [row('Reason', s.reason)] : []),
      ...(s.nextStep ? [row('Next step', s.nextStep)] : []),
    );
  }
  lines.push('', `Recent device trust errors (${d.recentErrors.length})`);
  if (d.recentErrors.length === 0) lines.push('  none');
  for (const e of d.recentErrors) {
    const where = [e.cluster, e.step].filter(Boolean).join(', ');
    lines.push(`  ${e.at} ${e.code}${where ? ` (${where})` : ''}: ${e.message}`);
  }
  return lines.join('\n') + '\n';
}
