// Can this machine's TPM be used, and if not, why and what fixes it: the "TPM" section of
// "This device" and of `gate device diagnose`. Each failure becomes a state with a concrete
// reason and fix, because "TPM error" alone sends people to the helpdesk for a group membership.
// The first probe opens the TPM; TpmProbeCache keeps its answer (a TPM does not come and go while
// the app runs) until someone asks to refresh.
import { existsSync } from 'node:fs';
import { credentialIdFromAkPublic } from '../../src-shared/device-credential.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { TpmInfo } from '../device/tpm/addon.ts';

export interface TpmProbe {
  state: 'present' | 'missing' | 'no-permission' | 'library-missing' | 'error';
  tcti: string;
  reason?: string;
  fix?: string;
  code?: ErrorCode;
  manufacturer?: string;
  vendor?: string;
  firmwareVersion?: string;
  ekCertificate?: boolean;
  credentialId?: string;
}

/** An open TPM as far as the probe needs it. */
export interface ProbeableTpm {
  info(): Promise<TpmInfo>;
  ekCertificate(): Promise<Buffer | null>;
  close(): Promise<void>;
}

export interface ProbeTarget {
  tcti: string;
  /** Loads the addon and opens the TPM (throws coded GatehouseErrors, see tpm-errors.ts). */
  open(): Promise<ProbeableTpm>;
  /** The stored AK's public area, when this device has one: the credential id without a TPM call. */
  storedAkPublic?(): Buffer | null;
  /** For tests: whether a device node exists. */
  exists?(path: string): boolean;
}

export const FIX_NO_PERMISSION =
  'add yourself to the tss group: sudo usermod -aG tss $USER, then log out and in; or install the udev rule ' +
  "(tpm2-tss's /usr/lib/udev/rules.d/60-tpm-udev.rules)";
export const FIX_LIBRARY_MISSING = 'install libtss2-esys-3.0.2-0 / reinstall Gatehouse';
export const REASON_NO_TPM = 'this computer has no TPM 2.0, or it is off in the firmware settings';

/** The device node of a `device:` TCTI ("device" alone means /dev/tpmrm0), else undefined. */
export function tctiDevicePath(tcti: string): string | undefined {
  if (tcti === 'device') return '/dev/tpmrm0';
  if (!tcti.startsWith('device:')) return undefined;
  return tcti.slice('device:'.length) || '/dev/tpmrm0';
}

/** A failure to open or read the TPM as a probe state with its reason and fix. */
export function classifyTpmFailure(tcti: string, e: unknown, exists: (p: string) => boolean = existsSync): TpmProbe {
  const err =
    e instanceof GatehouseError ? e : new GatehouseError(ErrorCode.TPM_ERROR, String((e as Error)?.message ?? e));
  const device = tctiDevicePath(tcti);
  const errno = (e as NodeJS.ErrnoException)?.code;
  if (err.code === ErrorCode.TPM_PERMISSION_DENIED || errno === 'EACCES' || errno === 'EPERM') {
    return {
      state: 'no-permission',
      tcti,
      code: ErrorCode.TPM_PERMISSION_DENIED,
      reason: `${device ?? 'the TPM'} is not readable and writable by you (${err.message})`,
      fix: FIX_NO_PERMISSION,
    };
  }
  if (err.code === ErrorCode.TPM_NOT_SUPPORTED) {
    const unsupportedOs = err.details?.platform !== undefined;
    return {
      state: unsupportedOs ? 'error' : 'library-missing',
      tcti,
      code: err.code,
      reason: err.message,
      ...(unsupportedOs ? {} : { fix: FIX_LIBRARY_MISSING }),
    };
  }
  if (device && !exists(device)) {
    return {
      state: 'missing',
      tcti,
      code: ErrorCode.TPM_UNAVAILABLE,
      reason: `${device} does not exist: ${REASON_NO_TPM}`,
      fix: 'turn the TPM (fTPM / PTT / Security Chip) on in the firmware settings, or use a computer with a TPM 2.0',
    };
  }
  if (/libtss2|cannot open shared object|tcti.*(load|dlopen)/i.test(err.message)) {
    return { state: 'library-missing', tcti, code: err.code, reason: err.message, fix: FIX_LIBRARY_MISSING };
  }
  return {
    state: 'error',
    tcti,
    code: err.code,
    reason: err.message,
    fix:
      err.code === ErrorCode.TPM_UNAVAILABLE
        ? `check that the TPM at "${tcti}" is running (tpm2_getcap properties-fixed)`
        : 'retry; if it keeps happening, send the diagnostics to your helpdesk',
  };
}

/** Opens the TPM once and reads what it says about itself. Never throws. */
export async function probeTpm(target: ProbeTarget): Promise<TpmProbe> {
  const exists = target.exists ?? existsSync;
  let tpm: ProbeableTpm | undefined;
  try {
    tpm = await target.open();
    const info = await tpm.info();
    const ekCert = await tpm.ekCertificate();
    let credentialId: string | undefined;
    try {
      const akPublic = target.storedAkPublic?.();
      if (akPublic) credentialId = credentialIdFromAkPublic(akPublic);
    } catch {
      // a damaged blob is replaced at the next enrollment; the probe just has no credential id
    }
    return {
      state: 'present',
      tcti: target.tcti,
      manufacturer: info.manufacturer,
      vendor: info.vendor,
      firmwareVersion: info.firmwareVersion,
      ekCertificate: ekCert !== null,
      ...(credentialId ? { credentialId } : {}),
    };
  } catch (e) {
    return classifyTpmFailure(target.tcti, e, exists);
  } finally {
    await tpm?.close().catch(() => undefined);
  }
}

/**
 * The probe's answer kept for the life of the client: the first get() opens the TPM (tens of ms
 * on swtpm, more on hardware); later ones answer from memory unless `refresh`. Concurrent first
 * calls share one probe.
 */
export class TpmProbeCache {
  private pending: Promise<TpmProbe> | undefined;

  constructor(
    private readonly probe: () => Promise<TpmProbe>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async get(opts: { refresh?: boolean } = {}): Promise<{ probe: TpmProbe; ms: number; cached: boolean }> {
    const started = this.now();
    const cached = this.pending !== undefined && opts.refresh !== true;
    if (!cached) this.pending = this.probe();
    const probe = await this.pending!;
    return { probe, ms: Math.round((this.now() - started) * 10) / 10, cached };
  }

  /** Forgets the answer (e.g. after an enrollment made a new AK). */
  invalidate(): void {
    this.pending = undefined;
  }
}
