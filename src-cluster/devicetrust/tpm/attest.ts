// TPMS_ATTEST (TPM 2.0 Part 2 §10.12): what a TPM signs for quotes and creation certifications.
// The parser checks the magic (TPM_GENERATED_VALUE), which is what makes a restricted AK's
// signature mean "the TPM produced this": a restricted key refuses to sign outside data that
// starts with that value.
import { TPM_GENERATED_VALUE, TPM_ST_ATTEST } from './constants.ts';
import { attestationError } from './errors.ts';
import { TpmReader } from './reader.ts';

export interface PcrSelection {
  hashAlg: number;
  /** Selected PCR indices, ascending. */
  pcrs: number[];
}

export interface ClockInfo {
  clock: bigint;
  resetCount: number;
  restartCount: number;
  safe: boolean;
}

interface AttestCommon {
  /** The exact signed bytes. */
  raw: Buffer;
  qualifiedSigner: Buffer;
  extraData: Buffer;
  clockInfo: ClockInfo;
  firmwareVersion: bigint;
}

export interface QuoteAttest extends AttestCommon {
  type: 'quote';
  pcrSelect: PcrSelection[];
  pcrDigest: Buffer;
}

export interface CreationAttest extends AttestCommon {
  type: 'creation';
  objectName: Buffer;
  creationHash: Buffer;
}

export interface CertifyAttest extends AttestCommon {
  type: 'certify';
  name: Buffer;
  qualifiedName: Buffer;
}

export type TpmAttest = QuoteAttest | CreationAttest | CertifyAttest;

export function readPcrSelection(r: TpmReader): PcrSelection[] {
  const count = r.u32('pcrSelect.count');
  // There are at most a handful of banks; a huge count is garbage, not a reason to loop for long.
  if (count > 16) throw attestationError('malformed', `malformed ${r.what}: ${count} PCR banks selected`);
  const out: PcrSelection[] = [];
  for (let i = 0; i < count; i++) {
    const hashAlg = r.u16(`pcrSelect[${i}].hash`);
    const size = r.u8(`pcrSelect[${i}].sizeofSelect`);
    if (size > 8) throw attestationError('malformed', `malformed ${r.what}: PCR select of ${size} bytes`);
    const bits = r.bytes(size, `pcrSelect[${i}].pcrSelect`);
    const pcrs: number[] = [];
    for (let byte = 0; byte < size; byte++) {
      for (let bit = 0; bit < 8; bit++) if (bits[byte]! & (1 << bit)) pcrs.push(byte * 8 + bit);
    }
    out.push({ hashAlg, pcrs });
  }
  return out;
}

/** Parses a TPMS_ATTEST of type quote, creation or certify; other types are rejected. */
export function parseAttest(buf: Buffer): TpmAttest {
  const r = new TpmReader(buf, 'TPMS_ATTEST');
  const magic = r.u32('magic');
  if (magic !== TPM_GENERATED_VALUE) {
    throw attestationError(
      'malformed',
      `TPMS_ATTEST magic is 0x${magic.toString(16)}, not TPM_GENERATED_VALUE (0xff544347): not made by a TPM`,
    );
  }
  const type = r.u16('type');
  const common = {
    raw: buf,
    qualifiedSigner: r.tpm2b('qualifiedSigner', 66),
    extraData: r.tpm2b('extraData', 64),
    clockInfo: {
      clock: r.u64('clockInfo.clock'),
      resetCount: r.u32('clockInfo.resetCount'),
      restartCount: r.u32('clockInfo.restartCount'),
      safe: r.u8('clockInfo.safe') !== 0,
    },
    firmwareVersion: r.u64('firmwareVersion'),
  };
  let out: TpmAttest;
  if (type === TPM_ST_ATTEST.QUOTE) {
    const pcrSelect = readPcrSelection(r);
    out = { type: 'quote', ...common, pcrSelect, pcrDigest: r.tpm2b('quote.pcrDigest', 64) };
  } else if (type === TPM_ST_ATTEST.CREATION) {
    const objectName = r.tpm2b('creation.objectName', 66);
    out = { type: 'creation', ...common, objectName, creationHash: r.tpm2b('creation.creationHash', 64) };
  } else if (type === TPM_ST_ATTEST.CERTIFY) {
    const name = r.tpm2b('certify.name', 66);
    out = { type: 'certify', ...common, name, qualifiedName: r.tpm2b('certify.qualifiedName', 66) };
  } else {
    throw attestationError('wrong_attestation_type', `TPMS_ATTEST type 0x${type.toString(16)} is not supported`);
  }
  r.end();
  return out;
}
