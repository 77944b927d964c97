// Whether a stored login is device-trusted, and if not, what to tell the person: one answer for
// `gate status`, `gate login`, `gate ssh`'s denial hint and the desktop app's indicator. Reads only
// the profile (device fields from the certificates, the login's requirement, a recorded failure)
// and this device's local enrollment record: no network, no TPM.
import type { EnrollmentRecord } from './enrollments.ts';
import type { Profile } from './profiles.ts';

/** trusted: the certificates carry device fields; not-enrolled: no enrollment here for the cluster; not-trusted: enrolled, but this login has no device fields. */
export type DeviceTrustState = 'trusted' | 'not-enrolled' | 'not-trusted';

export const FULL_ACCESS_NEEDS_TRUSTED_DEVICE = 'Full access requires a trusted device';

/** What an unenrolled device's owner does, for the CLI. */
export const ENROLL_NEXT_STEP =
  'ask your administrator for an enroll token, run "gate device enroll" (it asks for the token): this login becomes device-trusted at once';

export interface DeviceTrustStatus {
  state: DeviceTrustState;
  /** The cluster's mode at login; "off" when the cluster did not say (older logins). */
  mode: string;
  /** The login said this user needs a trusted device. */
  required: boolean;
  /** Why an enrolled device's login is not trusted (device authentication's failure), if known. */
  reason?: string;
  /** What to do, when not trusted. */
  nextStep?: string;
}

export function deviceTrustStatus(
  profile: Pick<Profile, 'device' | 'deviceTrustMode' | 'deviceTrustRequired' | 'deviceTrustIssue'>,
  enrollment: EnrollmentRecord | undefined,
): DeviceTrustStatus {
  const mode = profile.deviceTrustMode ?? 'off';
  const required = profile.deviceTrustRequired === true;
  if (profile.device) return { state: 'trusted', mode, required };
  if (!enrollment) return { state: 'not-enrolled', mode, required, nextStep: ENROLL_NEXT_STEP };
  const issue = profile.deviceTrustIssue;
  if (issue)
    return {
      state: 'not-trusted',
      mode,
      required,
      reason: `${issue.message} [${issue.code}]`,
      nextStep: issue.nextStep,
    };
  return {
    state: 'not-trusted',
    mode,
    required,
    // Enrolled after this login, or device authentication was not run (mode off at the time).
    reason: 'this login was made without device authentication',
    nextStep: 'run "gate login" again',
  };
}

/**
 * Lines to print under a login's device trust row when it is not trusted but required:
 * "Full access requires a trusted device." and the next step (with the reason when known).
 */
export function requirementLines(s: DeviceTrustStatus): string[] {
  if (s.state === 'trusted' || !s.required) return [];
  return [
    `${FULL_ACCESS_NEEDS_TRUSTED_DEVICE}.`,
    ...(s.reason ? [`Not trusted because: ${s.reason}`] : []),
    ...(s.nextStep ? [`Next step: ${s.nextStep}`] : []),
  ];
}
