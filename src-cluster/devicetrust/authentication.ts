// The device authentication ceremony, server half (TPM). Runs after every login: the client
// names its credential, the server answers with a fresh nonce, and only the TPM holding that
// enrolled AK can return a quote over it. Then the login's certificates are issued again with
// the device fields (same key, identity and expiry), which is what "device-trusted" means.
import { performance } from 'node:perf_hooks';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { accessTargets } from '../locks/lock-targets.ts';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type {
  AuthenticateDeviceInit,
  AuthenticateDeviceRequest,
  AuthenticateDeviceResponseSchema,
  AuthenticateDeviceSuccessSchema,
  TpmPlatformParameters,
} from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import type { CertAuthorities } from '../auth/authorities.ts';
import { checkPresentedCerts, reissueWithDevice, type CheckedCerts } from '../auth/device-certs.ts';
import type { DeviceFields } from '../../src-shared/cert-fields.ts';
import {
  CeremonyStream,
  collectedDataFromWire,
  deviceLabel,
  deviceToWire,
  newNonce,
  pcrBankFromWire,
  QUOTE_PCRS,
  required,
  requireMatchingSerial,
} from './ceremony-stream.ts';
import { requireAttestationPolicy, type Caller, type DeviceCeremonyDeps } from './enrollment.ts';
import type { StoredDevice } from './inventory.ts';
import type { DeviceCollectedData, DeviceSpec } from '../resources/device.ts';
import { verifyQuote } from './tpm/quote.ts';
import {
  discardAudit,
  type AuditBatchEmitter,
  type AuditEmitter,
  type AuditEventInput,
  type AuditTransactionEmitter,
} from '../audit/audit-events.ts';
import { errorMessage, recordRefusal, trustedDeviceField } from '../audit/audit-emit.ts';

type AuthenticateResponse = MessageInitShape<typeof AuthenticateDeviceResponseSchema>;
type AuthenticateSuccess = MessageInitShape<typeof AuthenticateDeviceSuccessSchema>;

export interface AuthenticationDeps extends DeviceCeremonyDeps {
  cas: CertAuthorities;
  /** The cluster's device trust mode; `off` means no device authentication at all. */
  clusterDeviceTrustMode?: () => string;
}

export interface AuthenticatingCaller extends Caller {
  /** DER of the client certificate this call came in with (mTLS). */
  certDer: Buffer;
}

async function enrolledDeviceFor(deps: AuthenticationDeps, credentialId: string): Promise<StoredDevice> {
  const device = await deps.inventory.findByCredential(credentialId);
  if (!device || device.spec.enroll_status !== 'enrolled') {
    throw new GatehouseError(
      ErrorCode.DEVICE_NOT_ENROLLED,
      device
        ? `device ${deviceLabel(device)} is not enrolled; ask an administrator for an enroll token (gatectl devices enroll)`
        : 'no enrolled device has this credential: enroll this device first (gate device enroll)',
      { reason: device ? 'not_enrolled' : 'unknown_credential' },
    );
  }
  return device;
}

/** Certificates checkPresentedCerts passed moments ago for this caller (see login-challenge-authentication.ts). */
export interface PrecheckedCerts {
  sshCertificate: string;
  tlsCertificatePem: string;
  certs: CheckedCerts;
}

/** The very certificates checked before (byte for byte), and neither has expired since. */
function stillValid(p: PrecheckedCerts, ssh: string, tlsPem: string, now: Date): boolean {
  return (
    p.sshCertificate === ssh &&
    p.tlsCertificatePem === tlsPem &&
    p.certs.tls.notAfter > now &&
    p.certs.ssh.validBefore > BigInt(Math.floor(now.getTime() / 1000))
  );
}

/** Device certificates signed ahead for `for` (never sent unless every check passed). */
export interface PresignedCerts {
  for: CheckedCerts;
  fields: DeviceFields;
  issued: { sshCertificate: string; tlsCertificate: string };
}

const sameFields = (a: DeviceFields, b: DeviceFields) =>
  a.deviceId === b.deviceId && a.assetTag === b.assetTag && a.credentialId === b.credentialId;

/** Work done for a login challenge while the client quotes (login-challenge-authentication.ts). */
export interface PreparedAnswer {
  prechecked: PrecheckedCerts;
  presigned?: PresignedCerts;
  /** How long the preparation ran (ms, wall), for the log line. */
  tookMs?: number;
}

/** What the checks of an init message establish before any nonce is issued. */
export interface CheckedInit {
  certs: CheckedCerts;
  device: StoredDevice;
  data: DeviceCollectedData;
}

/**
 * The init's checks, shared by the stream ceremony and the login challenge: device trust not
 * off, the login's certificates (the caller's own), an enrolled device with this credential that
 * meets the policy in force, and device data naming that device. `onDevice` learns the device as
 * soon as it is known (failures are audited with it).
 */
export async function checkAuthenticationInit(
  deps: AuthenticationDeps,
  caller: AuthenticatingCaller,
  init: AuthenticateDeviceInit,
  onDevice: (device: StoredDevice) => void,
  prechecked?: PrecheckedCerts,
): Promise<CheckedInit> {
  const now = deps.now ?? (() => new Date());
  if (deps.clusterDeviceTrustMode?.() === 'off') {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      'device trust is off in this cluster (cluster_auth_preference device_trust.mode): there is no device authentication',
      { reason: 'device_trust_off' },
    );
  }
  const presented = required(init.userCertificates, 'the user certificates');
  const sshCertificate = required(presented.sshCertificate, 'the SSH certificate');
  const tlsCertificatePem = required(presented.tlsCertificate, 'the TLS certificate');
  const certs =
    prechecked && stillValid(prechecked, sshCertificate, tlsCertificatePem, now())
      ? prechecked.certs
      : checkPresentedCerts(
          deps.cas,
          { sshCertificate, tlsCertificatePem },
          { user: caller.user, certDer: caller.certDer },
          now(),
        );
  const device = await enrolledDeviceFor(deps, required(init.credentialId, 'the credential id'));
  onDevice(device);
  // The policy in force now, not the one the device enrolled under: tightening it applies at once.
  requireAttestationPolicy(
    deps,
    device,
    device.spec.credential!,
    now(),
    `device ${deviceLabel(device)} no longer meets this cluster's device trust policy: `,
  );
  const data = collectedDataFromWire(required(init.deviceData, 'the device data'), now());
  requireMatchingSerial(device, data);
  return { certs, device, data };
}

/**
 * The quote over `nonce` checked against the enrolled AK, then (no lock in force) the login's
 * certificates re-issued with the device fields, the device data stored and the success audited
 * before the certificates leave.
 */
export async function finishAuthentication(
  deps: AuthenticationDeps,
  caller: AuthenticatingCaller,
  checked: CheckedInit,
  nonce: Buffer,
  platformParameters: TpmPlatformParameters | undefined,
  started: number,
  presigned?: PresignedCerts,
  steps: StepTimes = new StepTimes(),
): Promise<AuthenticateSuccess> {
  const { certs, device, data } = checked;
  const audit = deps.audit ?? discardAudit;
  const platform = required(platformParameters, 'the platform parameters');
  const quote = required(platform.quote, 'the quote');
  verifyQuote({
    // The AK enrolled for this credential, never one the client sends now.
    akPublic: Buffer.from(device.spec.credential!.public_key, 'base64'),
    attest: Buffer.from(quote.quote),
    signature: Buffer.from(quote.signature),
    nonce,
    pcrs: [pcrBankFromWire(platform, QUOTE_PCRS)],
  });
  steps.lap('quote');

  // Before the new certificates exist: a locked user, role or device gets none.
  await deps.requireNoLock?.(
    accessTargets({ user: caller.user, roles: certs.tls.roles, device: device.metadata.name }),
    { action: 'device authentication' },
  );
  steps.lap('locks');
  const fields = {
    deviceId: device.metadata.name,
    assetTag: device.spec.asset_tag,
    credentialId: device.spec.credential!.id,
  };
  const issued =
    presigned && sameFields(presigned.fields, fields) && presigned.for === certs
      ? presigned.issued
      : await reissueWithDevice(deps.cas, certs, fields);
  steps.lap(issued === presigned?.issued ? 'presigned' : 'sign');
  // Recorded before the device-trusted certificates leave; no audit, no certificates.
  const trusted_device = trustedDeviceField(fields);
  const events: AuditEventInput[] = [
    {
      type: 'device.authenticate',
      success: true,
      user: caller.user,
      fields: { ...trusted_device, client_address: caller.address },
    },
    {
      type: 'cert.create',
      success: true,
      user: caller.user,
      fields: {
        roles: certs.tls.roles,
        logins: certs.tls.logins,
        expires: certs.tls.notAfter.toISOString(),
        client_address: caller.address,
        trusted_device,
      },
    },
  ];
  // The device's new data and both events in ONE transaction when the audit log is in the
  // device records' storage (the auth server's own log): one commit on the answer's path instead
  // of two in a row, and never data without its events or events without their data.
  const withAudit = (audit as Partial<AuditTransactionEmitter>).writesIn?.call(audit, deps.inventory.storage, events);
  const append = (spec: DeviceSpec): DeviceSpec => ({ ...spec, collected_data: [...spec.collected_data, data] });
  const updated = await deps.inventory.update(device.metadata.name, append, withAudit?.ops);
  steps.lap('device_write');
  if (withAudit) withAudit.stored();
  else await emitAll(audit, events);
  steps.lap('audit');
  deps.log.info('device authenticated', {
    device_id: fields.deviceId,
    asset_tag: fields.assetTag,
    credential_id: fields.credentialId,
    user: caller.user,
    client: caller.address,
    expires: certs.tls.notAfter.toISOString(),
    // Wall time of the ceremony on the server, the device's TPM round trip included.
    ms: Math.round(performance.now() - started),
    // Where the time after the quote arrived went (quote_ms, locks_ms, ...): bench:device reports them.
    ...steps.fields(),
  });
  return {
    userCertificates: { sshCertificate: issued.sshCertificate, tlsCertificate: issued.tlsCertificate },
    device: deviceToWire(updated),
  };
}

/** Milliseconds per named step since the previous lap (0.1 ms resolution). */
export class StepTimes {
  readonly #times: Record<string, number> = {};
  #last = performance.now();

  /** A step timed elsewhere (e.g. work done before the answer arrived). */
  set(step: string, ms: number): void {
    this.#times[step] = Math.round(ms * 10) / 10;
  }

  lap(step: string): void {
    const now = performance.now();
    this.#times[step] = Math.round((now - this.#last) * 10) / 10;
    this.#last = now;
  }

  /** As flat log fields, `<step>_ms` (the text log format prints no nested objects). */
  fields(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.#times).map(([step, ms]) => [`${step}_ms`, ms]));
  }
}

/** All events in one storage transaction when the emitter stores batches, else one by one. */
async function emitAll(audit: AuditEmitter, events: AuditEventInput[]): Promise<void> {
  const batch = (audit as Partial<AuditBatchEmitter>).emitMany;
  if (batch) return batch.call(audit, events);
  for (const event of events) await audit.emit(event);
}

/** A refused device authentication: logged, audited (the audit's own failure only logged), rethrown by the caller. */
export async function recordAuthenticationFailure(
  deps: AuthenticationDeps,
  caller: Pick<AuthenticatingCaller, 'user' | 'address'>,
  device: StoredDevice | undefined,
  e: unknown,
): Promise<void> {
  const code = isGatehouseError(e) ? e.code : ErrorCode.INTERNAL;
  const reason = isGatehouseError(e) ? String(e.details?.['reason'] ?? '') : '';
  deps.log.warn('device authentication failed', {
    device_id: device?.metadata.name ?? '',
    user: caller.user,
    client: caller.address,
    code,
    reason,
    error: (e as Error).message,
  });
  await recordRefusal(
    deps.audit ?? discardAudit,
    {
      type: 'device.authenticate',
      success: false,
      user: caller.user,
      message: errorMessage(e),
      fields: {
        device_id: device?.metadata.name ?? '',
        asset_tag: device?.spec.asset_tag ?? '',
        error_code: code,
        reason,
        client_address: caller.address,
      },
    },
    deps.log,
  );
}

export async function* authenticateDevice(
  deps: AuthenticationDeps,
  caller: AuthenticatingCaller,
  requests: AsyncIterable<AuthenticateDeviceRequest>,
): AsyncGenerator<AuthenticateResponse> {
  const started = performance.now();
  const stream = new CeremonyStream(requests, deps.stepTimeoutMs);
  let device: StoredDevice | undefined;
  try {
    const init = await stream.next('init');
    const checked = await checkAuthenticationInit(deps, caller, init, (d) => (device = d));
    const nonce = newNonce();
    yield { payload: { case: 'tpmChallenge', value: { attestationNonce: nonce, pcrs: [...QUOTE_PCRS] } } };

    const answer = await stream.next('tpmChallengeResponse');
    const success = await finishAuthentication(deps, caller, checked, nonce, answer.platformParameters, started);
    yield { payload: { case: 'success', value: success } };
  } catch (e) {
    await recordAuthenticationFailure(deps, caller, device, e);
    throw e;
  }
}
