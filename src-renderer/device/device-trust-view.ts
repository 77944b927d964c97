// What the top bar's trusted-device indicator shows for a session: its state word, the popover's
// rows (asset tag, credential id, attestation type, when the device fields were issued) and, when
// the session is not device-trusted, why and what to do. Pure, so it is tested without a DOM.
import type { SessionInfo } from '../../src-main/ipc/contract.ts';

/** The session's trust, or 'locked' while an administrator's lock on this device is in force. */
export type IndicatorState = SessionInfo['deviceTrustState'] | 'locked';

/** A lock in force on this device, as the cluster reports it (device.status cluster.lock). */
export interface DeviceLock {
  message: string;
  target: string;
}

/** Only a lock on the device itself changes what the indicator says (a user lock is not the device's). */
export function isDeviceLock(lock: DeviceLock | undefined): lock is DeviceLock {
  return lock !== undefined && /^Device:/.test(lock.target);
}

export interface DeviceTrustView {
  state: IndicatorState;
  /** "trusted" | "not enrolled" | "not trusted": on the button, and in its name "Device trust: …". */
  label: string;
  /** One sentence under the popover's heading. */
  summary: string;
  rows: Array<{ term: string; value: string; mono?: boolean }>;
  /** "Full access requires a trusted device." when the cluster requires one and this is not. */
  requirement?: string;
  /** Why an enrolled device is not trusted in this session. */
  reason?: string;
  nextStep?: string;
}

const LABELS: Record<IndicatorState, string> = {
  trusted: 'trusted',
  'not-enrolled': 'not enrolled',
  'not-trusted': 'not trusted',
  locked: 'locked',
};

export const ENROLL_STEP =
  'Open This device and enroll it with the enroll token your administrator gives you: this session ' +
  'becomes trusted without logging in again. From a terminal: run "gate device enroll" (it asks for the token), then log out and log in again.';

/** "26 Nov 2026, 07:12" in the viewer's locale and time zone; the raw text when unparsable. */
export function formatWhen(iso: string, locale?: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return t.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}

export function deviceTrustView(session: SessionInfo, locale?: string, lock?: DeviceLock): DeviceTrustView {
  const state: IndicatorState = isDeviceLock(lock) ? 'locked' : session.deviceTrustState;
  const d = session.device;
  const rows: DeviceTrustView['rows'] = [];
  if (d) {
    rows.push({ term: 'Asset tag', value: d.assetTag, mono: true });
    rows.push({ term: 'Credential ID', value: d.credentialId, mono: true });
    if (d.attestationType) rows.push({ term: 'Attestation', value: d.attestationType });
    if (state === 'trusted' && d.issuedAt)
      rows.push({ term: 'Device fields issued', value: formatWhen(d.issuedAt, locale) });
  }
  rows.push({ term: 'Cluster mode', value: session.deviceTrustMode });
  const requirement =
    state !== 'trusted' && session.deviceTrustRequired ? 'Full access requires a trusted device.' : undefined;
  switch (state) {
    case 'locked':
      // The certificates may still carry the device fields, but nothing new starts from this
      // device while the lock stands: saying "Trusted" here was what people saw after a lock cut them.
      return {
        state,
        label: LABELS[state],
        summary:
          'An administrator locked this device: no new sessions or gateways start from it while the lock stands.',
        rows,
        reason: lock!.message,
        nextStep: 'Contact your administrator: only they can lift the lock (or wait until it expires).',
      };
    case 'trusted':
      return {
        state,
        label: LABELS[state],
        summary: 'This session was started on a trusted device: its certificates carry the device identity.',
        rows,
      };
    case 'not-enrolled':
      return {
        state,
        label: LABELS[state],
        summary: 'This device is not enrolled in the cluster, so sessions started here are not device-trusted.',
        rows,
        ...(requirement ? { requirement } : {}),
        nextStep: ENROLL_STEP,
      };
    case 'not-trusted': {
      const issue = session.deviceTrustIssue;
      return {
        state,
        label: LABELS[state],
        summary: 'This device is enrolled, but this session is not device-trusted.',
        rows,
        ...(requirement ? { requirement } : {}),
        reason: issue ? issue.message : 'This session was started without device authentication.',
        nextStep: issue
          ? `${issue.nextStep[0]!.toUpperCase()}${issue.nextStep.slice(1).replace(/\.?$/, '.')}`
          : 'Log out and log in again: logging in proves this device with its TPM.',
      };
    }
  }
}
