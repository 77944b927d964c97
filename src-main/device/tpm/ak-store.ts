// The AK's TPM-wrapped blob and its creation evidence, kept in the user's cache dir. The private
// part is useless off this TPM, but it is still the device's identity key: the file is 0600.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../../src-shared/atomic-write.ts';
import type { AkCreation } from './addon.ts';

const FILE_NAME = 'tpm-ak.json';
const FIELDS = ['public', 'private', 'creationData', 'creationAttest', 'creationSignature'] as const;

export function akBlobPath(cacheDir: string): string {
  return join(cacheDir, FILE_NAME);
}

/** The stored AK, or null when there is none or it is unreadable (then it is made anew). */
export function readAkBlob(cacheDir: string): AkCreation | null {
  let raw: string;
  try {
    raw = readFileSync(akBlobPath(cacheDir), 'utf8');
  } catch {
    return null;
  }
  try {
    const json = JSON.parse(raw) as Record<string, unknown>;
    if (json.version !== 1) return null;
    const out: Partial<AkCreation> = {};
    for (const f of FIELDS) {
      const v = json[f];
      if (typeof v !== 'string' || !v) return null;
      out[f] = Buffer.from(v, 'base64');
    }
    return out as AkCreation;
  } catch {
    return null;
  }
}

export function writeAkBlob(cacheDir: string, ak: AkCreation): void {
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const json: Record<string, unknown> = { version: 1 };
  for (const f of FIELDS) json[f] = ak[f].toString('base64');
  writeFileAtomicSync(akBlobPath(cacheDir), JSON.stringify(json, null, 2) + '\n');
}

export function removeAkBlob(cacheDir: string): void {
  rmSync(akBlobPath(cacheDir), { force: true });
}
