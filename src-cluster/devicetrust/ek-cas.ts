// The EK certificate CAs a cluster trusts (auth.device_trust.ekcert_allowed_cas): read once at
// start so a missing file or a non-certificate is a config error with its name, never a
// surprise at the first enrollment.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Each entry is inline PEM or a path to a PEM file (one or more certificates). */
export function loadEkCertAllowedCas(
  entries: string[],
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    const inline = entry.includes('-----BEGIN');
    let text: string;
    try {
      text = inline ? entry : readFile(entry);
    } catch (e) {
      throw new GatehouseError(
        ErrorCode.CONFIG,
        `auth.device_trust.ekcert_allowed_cas: cannot read ${entry}: ${(e as Error).message}`,
      );
    }
    const blocks = text.match(PEM_BLOCK) ?? [];
    const where = inline ? 'an inline entry' : entry;
    if (blocks.length === 0) {
      throw new GatehouseError(
        ErrorCode.CONFIG,
        `auth.device_trust.ekcert_allowed_cas: ${where} holds no PEM certificate`,
      );
    }
    for (const pem of blocks) {
      try {
        new X509Certificate(pem);
      } catch (e) {
        throw new GatehouseError(
          ErrorCode.CONFIG,
          `auth.device_trust.ekcert_allowed_cas: ${where} holds an invalid certificate: ${(e as Error).message}`,
        );
      }
      out.push(pem);
    }
  }
  return out;
}
