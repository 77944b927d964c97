// TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s), as every authenticator app speaks it.
import * as OTPAuth from 'otpauth';

export interface OtpCheck {
  ok: boolean;
  /** Time step the code belonged to; a step may be used once, so a shoulder-surfed code cannot be replayed. */
  step?: number;
}

function totp(secretBase32: string, user = '', issuer = 'Gatehouse'): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer,
    label: user,
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secret: OTPAuth.Secret.fromBase32(secretBase32),
  });
}

export function newOtpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

export function otpUri(secretBase32: string, user: string, clusterName: string): string {
  return totp(secretBase32, user, `Gatehouse ${clusterName}`).toString();
}

export function generateOtp(secretBase32: string, now = Date.now()): string {
  return totp(secretBase32).generate({ timestamp: now });
}

export function checkOtp(
  secretBase32: string,
  code: string,
  lastUsedStep: number | undefined,
  now = Date.now(),
): OtpCheck {
  if (!/^\d{6}$/.test(code)) return { ok: false };
  const delta = totp(secretBase32).validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return { ok: false };
  const step = Math.floor(now / 30_000) + delta;
  if (lastUsedStep !== undefined && step <= lastUsedStep) return { ok: false };
  return { ok: true, step };
}
