// `gate device status` (the desktop app's "This device" screen as text) and `gate device
// diagnose` (the helpdesk's view, text or JSON). Both come from GatehouseClient.deviceStatus /
// deviceDiagnostics, the same calls the app makes, so gate and the app never disagree.
import { diagnosticsText } from '../../core/device-diagnostics.ts';
import type { DeviceStatusReport } from '../../core/device-status.ts';
import { clientVersion } from '../../core/version.ts';
import type { CommandContext } from '../context.ts';
import { print } from '../io.ts';

const yesNo = (b: boolean | undefined): string => (b === undefined ? '-' : b ? 'yes' : 'no');
const row = (label: string, value: string | undefined): string =>
  `  ${`${label}:`.padEnd(20)}${value === undefined || value === '' ? '-' : value}`;

function tpmRows(r: DeviceStatusReport): string[] {
  const t = r.tpm;
  if (t.state !== 'present') {
    return [row('TPM', `${t.state}: ${t.reason ?? ''}`), ...(t.fix ? [row('Fix', t.fix)] : [])];
  }
  return [
    row('TPM', `present (${t.tcti})`),
    row(
      'Manufacturer',
      [t.manufacturer, t.vendor, t.firmwareVersion && `firmware ${t.firmwareVersion}`].filter(Boolean).join(', '),
    ),
    row('EK certificate', yesNo(t.ekCertificate)),
    row('Credential ID', t.credentialId ?? 'none yet (made at enrollment)'),
  ];
}

function clusterRows(r: DeviceStatusReport): string[] {
  if (r.clusterError) return ['', 'Cluster', row('Error', `${r.clusterError.message} [${r.clusterError.code}]`)];
  const c = r.cluster;
  if (!c) return [];
  const lines = [
    '',
    `Cluster ${c.cluster} (${c.proxy})`,
    row('Registered', yesNo(c.registered)),
    row('Enrolled', yesNo(c.enrolled)),
  ];
  if (c.enrolled) {
    lines.push(
      row('Device ID', c.deviceId),
      row('Credential ID', `${c.credentialId ?? '-'}${c.credentialMatches === false ? " (NOT this TPM's key)" : ''}`),
      row('Attestation type', c.attestationType),
      row('Enrolled at', c.enrolledAt),
    );
  }
  if (!c.registered) lines.push(row('Ask your admin', c.adminCommand));
  else if (!c.enrolled) {
    lines.push(
      row(
        'Next step',
        c.autoEnrollAvailable
          ? 'gate device enroll --auto'
          : 'ask your administrator for an enroll token, then: gate device enroll',
      ),
    );
  }
  if (c.lock) lines.push(row('Locked', `${c.lock.message} (${c.lock.target})`));
  return lines;
}

export function deviceStatusText(r: DeviceStatusReport): string {
  const lines = [
    'This device',
    row('Asset tag', r.assetTag),
    row('Asset tag source', r.assetTagSource + (r.assetTagNote ? ` (${r.assetTagNote})` : '')),
    row('OS', `${r.osName} (${r.osType})`),
    row('Hostname', r.hostname),
    ...tpmRows(r),
    ...clusterRows(r),
  ];
  if (r.session) {
    lines.push(
      '',
      'This session',
      row('Device-trusted', yesNo(r.session.deviceTrusted)),
      ...(r.session.reason ? [row('Reason', r.session.reason)] : []),
      ...(r.session.nextStep ? [row('Next step', r.session.nextStep)] : []),
      row('Valid until', r.session.validUntil),
    );
  }
  return lines.join('\n');
}

/** `gate device status [--proxy ADDRESS] [--refresh]`. */
export async function status(ctx: CommandContext, values: { proxy?: string; refresh?: boolean }): Promise<number> {
  const report = await ctx.core.deviceStatus({
    ...(values.proxy ? { proxy: values.proxy } : {}),
    ...(values.refresh ? { refresh: true } : {}),
  });
  print(ctx.io, deviceStatusText(report));
  return 0;
}

/** `gate device diagnose [--proxy ADDRESS] [--format text|json]`. */
export async function diagnose(
  ctx: CommandContext,
  values: { proxy?: string; format: 'text' | 'json' },
): Promise<number> {
  const d = await ctx.core.deviceDiagnostics({
    ...(values.proxy ? { proxy: values.proxy } : {}),
    client: 'gate',
    version: clientVersion(),
  });
  if (values.format === 'json') print(ctx.io, JSON.stringify(d, null, 2));
  else ctx.io.stdout.write(diagnosticsText(d));
  return 0;
}
