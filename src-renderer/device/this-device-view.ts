// What the "This device" screen shows, worked out from main's ThisDeviceView: the field rows of
// each section (keys QA relies on: device-field-<key>), the TPM state in words with the concrete
// reason and fix, and which way to enroll is offered (token, auto-enroll, or the administrator's
// command when the device is not registered). Pure, so it is tested without a DOM.
import type { EnrollStepName, MyDeviceView, ThisDeviceView, TpmProbeView } from '../../src-main/ipc/contract.ts';
import { formatWhen } from './device-trust-view.ts';

export interface FieldRow {
  /** data-testid="device-field-<key>". */
  key: string;
  label: string;
  value: string;
  mono?: boolean;
  /** Good / needs attention, for the value's colour. */
  tone?: 'ok' | 'warn';
}

export interface EnrollOffer {
  /** The token box and Enroll button. */
  token: boolean;
  /** "Enroll this device" (auto-enroll is on and the device is registered). */
  auto: boolean;
  /** Not registered: the command the administrator runs, and words to send them. */
  adminCommand?: string;
  helpdeskText?: string;
  /** Why enrolling is offered, one sentence. */
  why: string;
}

export interface ThisDeviceScreen {
  device: FieldRow[];
  tpm: { rows: FieldRow[]; reason?: string; fix?: string; usable: boolean };
  cluster?: { name: string; rows: FieldRow[]; lock?: { message: string; target: string } };
  session?: { rows: FieldRow[]; nextStep?: string };
  /** Undefined without a cluster to enroll in (no login, or the cluster could not be asked). */
  enroll?: EnrollOffer;
}

const TPM_STATE_WORDS: Record<TpmProbeView['state'], string> = {
  present: 'Ready',
  missing: 'No TPM found',
  'no-permission': 'No permission to use the TPM',
  'library-missing': 'TPM software is missing',
  error: 'The TPM reported an error',
};

export const STEP_LABELS: Record<EnrollStepName, string> = {
  'check-tpm': 'Check the TPM',
  'create-ak': 'Create the device key',
  'activate-credential': 'Prove the TPM to the cluster',
  quote: 'Sign a TPM quote',
  authenticate: 'Make this session trusted',
  done: 'Done',
};

const yesNo = (v: boolean): string => (v ? 'Yes' : 'No');

/** Main's words come from the core shared with `gate` (lower-case clauses); shown as sentences here. */
export function asSentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const capital = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?)]$/.test(capital) ? capital : `${capital}.`;
}

/** In the app the enroll panel is the way to trust, so its step replaces gate's "run gate device enroll". */
const ENROLL_HERE =
  'Enroll this device above (Cluster section): this session becomes device-trusted at once, without logging in again.';

function tpmSection(tpm: TpmProbeView): ThisDeviceScreen['tpm'] {
  const usable = tpm.state === 'present';
  const rows: FieldRow[] = [
    { key: 'tpm-state', label: 'State', value: TPM_STATE_WORDS[tpm.state], tone: usable ? 'ok' : 'warn' },
  ];
  if (usable) {
    const maker = [tpm.manufacturer, tpm.vendor?.trim()].filter(Boolean).join(' · ');
    rows.push({ key: 'tpm-manufacturer', label: 'Manufacturer', value: maker || 'Unknown' });
    if (tpm.firmwareVersion)
      rows.push({ key: 'tpm-firmware', label: 'Firmware', value: tpm.firmwareVersion, mono: true });
    rows.push({ key: 'tpm-ek-cert', label: 'EK certificate', value: tpm.ekCertificate ? 'Present' : 'None' });
  }
  rows.push({ key: 'tpm-tcti', label: 'Connection', value: tpm.tcti, mono: true });
  return {
    rows,
    usable,
    ...(tpm.reason ? { reason: asSentence(tpm.reason) } : {}),
    ...(tpm.fix ? { fix: asSentence(tpm.fix) } : {}),
  };
}

function enrollOffer(view: ThisDeviceView): EnrollOffer | undefined {
  const c = view.cluster;
  if (!c) return undefined;
  if (c.enrolled && c.credentialMatches !== false) {
    // Enrolled with this TPM: the token box stays for the rare new enrollment (a TPM reset, a new
    // token from the helpdesk); auto-enroll is not offered for an enrolled device.
    return {
      token: true,
      auto: false,
      why: 'This device is enrolled in this cluster. Enroll it again only with a new token from your administrator.',
    };
  }
  const why = c.enrolled
    ? "The cluster has this device enrolled with another key than this computer's TPM: enroll it again."
    : 'This device is not enrolled in this cluster yet.';
  if (!c.registered) {
    return {
      token: true,
      auto: false,
      why: `This device is not registered in cluster ${c.cluster}.`,
      adminCommand: c.adminCommand,
      helpdeskText:
        `Please register my device in cluster ${c.cluster} (asset tag ${view.assetTag}, ${view.osType}) and ` +
        `give me an enroll token: ${c.adminCommand}`,
    };
  }
  return { token: true, auto: c.autoEnrollAvailable, why };
}

export function thisDeviceScreen(view: ThisDeviceView, locale?: string): ThisDeviceScreen {
  const device: FieldRow[] = [
    { key: 'asset-tag', label: 'Asset tag', value: view.assetTag, mono: true },
    {
      key: 'asset-tag-source',
      label: 'Asset tag from',
      value: view.assetTagSource + (view.assetTagNote ? ` (${view.assetTagNote})` : ''),
    },
    { key: 'os', label: 'Operating system', value: view.osName ? `${view.osName} (${view.osType})` : view.osType },
    { key: 'hostname', label: 'Host name', value: view.hostname },
  ];
  const screen: ThisDeviceScreen = { device, tpm: tpmSection(view.tpm) };
  const c = view.cluster;
  if (c) {
    const rows: FieldRow[] = [
      { key: 'registered', label: 'Registered', value: yesNo(c.registered), tone: c.registered ? 'ok' : 'warn' },
      { key: 'enrolled', label: 'Enrolled', value: yesNo(c.enrolled), tone: c.enrolled ? 'ok' : 'warn' },
    ];
    if (c.credentialId) {
      const mismatch = c.credentialMatches === false ? ' (not this TPM)' : '';
      rows.push({
        key: 'credential-id',
        label: 'Credential ID',
        value: c.credentialId + mismatch,
        mono: true,
        ...(mismatch ? { tone: 'warn' as const } : {}),
      });
    }
    if (c.attestationType) rows.push({ key: 'attestation-type', label: 'Attestation', value: c.attestationType });
    if (c.enrolledAt) rows.push({ key: 'enrolled-at', label: 'Enrolled at', value: formatWhen(c.enrolledAt, locale) });
    rows.push({ key: 'trust-mode', label: 'Device trust mode', value: c.deviceTrustMode });
    screen.cluster = { name: c.cluster, rows, ...(c.lock ? { lock: c.lock } : {}) };
  }
  if (view.session) {
    const s = view.session;
    const rows: FieldRow[] = [
      {
        key: 'session-trusted',
        label: 'Device-trusted',
        value: yesNo(s.deviceTrusted),
        tone: s.deviceTrusted ? 'ok' : 'warn',
      },
    ];
    if (s.reason) rows.push({ key: 'session-reason', label: 'Why not', value: asSentence(s.reason) });
    rows.push({ key: 'session-valid-until', label: 'Valid until', value: formatWhen(s.validUntil, locale) });
    const notEnrolled = view.cluster !== undefined && !view.cluster.enrolled;
    const nextStep = s.deviceTrusted ? undefined : notEnrolled ? ENROLL_HERE : s.nextStep && asSentence(s.nextStep);
    screen.session = { rows, ...(nextStep ? { nextStep } : {}) };
  }
  const offer = enrollOffer(view);
  if (offer) screen.enroll = offer;
  return screen;
}

/** My devices rows: this one first, then by asset tag. */
export function sortMyDevices(devices: readonly MyDeviceView[]): MyDeviceView[] {
  return [...devices].sort(
    (a, b) => Number(b.thisDevice) - Number(a.thisDevice) || a.assetTag.localeCompare(b.assetTag),
  );
}
