// Checks an AK's creation attestation (TPM2_CertifyCreation signed by the AK itself): the TPM says
// "I created the object with this Name, with this TPMS_CREATION_DATA". The server learns the AK
// was made by a TPM (not imported) and under which parent; the signature alone cannot tell which
// TPM, which is what MakeCredential to the EK then proves.
import { createHash } from 'node:crypto';
import { readPcrSelection, parseAttest, type CreationAttest, type PcrSelection } from './attest.ts';
import { algName, hashInfo } from './constants.ts';
import { attestationError } from './errors.ts';
import { parsePublic, tpmName, type TpmPublic } from './public.ts';
import { equalBytes } from './quote.ts';
import { TpmReader } from './reader.ts';
import { parseSignature, verifySignature } from './signature.ts';

export interface CreationData {
  /** The exact TPMS_CREATION_DATA bytes (what creationHash hashes). */
  raw: Buffer;
  pcrSelect: PcrSelection[];
  pcrDigest: Buffer;
  locality: number;
  parentNameAlg: number;
  parentName: Buffer;
  parentQualifiedName: Buffer;
  outsideInfo: Buffer;
}

function readCreationData(r: TpmReader): CreationData {
  const start = r.offset;
  const pcrSelect = readPcrSelection(r);
  const pcrDigest = r.tpm2b('pcrDigest', 64);
  const locality = r.u8('locality');
  const parentNameAlg = r.u16('parentNameAlg');
  const parentName = r.tpm2b('parentName', 66);
  const parentQualifiedName = r.tpm2b('parentQualifiedName', 66);
  const outsideInfo = r.tpm2b('outsideInfo', 64);
  const raw = Buffer.from(r.buf.subarray(start, r.offset));
  return { raw, pcrSelect, pcrDigest, locality, parentNameAlg, parentName, parentQualifiedName, outsideInfo };
}

/** Parses a TPMS_CREATION_DATA, or a TPM2B_CREATION_DATA (the form TPM2_Create returns and tpm2-tools writes). */
export function parseCreationData(buf: Buffer): CreationData {
  if (buf.length >= 2 && buf.readUInt16BE(0) === buf.length - 2) {
    const outer = new TpmReader(buf, 'TPM2B_CREATION_DATA');
    const inner = outer.tpm2b('creationData');
    outer.end();
    buf = inner;
  }
  const r = new TpmReader(buf, 'TPMS_CREATION_DATA');
  const data = readCreationData(r);
  r.end();
  return data;
}

export interface VerifyCreationInput {
  akPublic: Buffer | TpmPublic;
  /** TPMS_CREATION_DATA or TPM2B_CREATION_DATA from TPM2_Create. */
  creationData: Buffer;
  /** TPMS_ATTEST from TPM2_CertifyCreation. */
  attest: Buffer;
  /** TPMT_SIGNATURE over attest, by the AK. */
  signature: Buffer;
}

/** Verifies that the AK certified its own creation with exactly this creation data. */
export function verifyCreation(input: VerifyCreationInput): { attest: CreationAttest; creationData: CreationData } {
  const ak = Buffer.isBuffer(input.akPublic) ? parsePublic(input.akPublic) : input.akPublic;
  const sig = parseSignature(input.signature);
  const attest = parseAttest(input.attest);
  verifySignature(ak, input.attest, sig);
  if (attest.type !== 'creation') {
    throw attestationError(
      'wrong_attestation_type',
      `expected a creation attestation, got a ${attest.type} attestation`,
    );
  }
  if (!equalBytes(attest.objectName, tpmName(ak))) {
    throw attestationError(
      'creation_mismatch',
      'the creation attestation is for another object than this attestation key',
    );
  }
  const creationData = parseCreationData(input.creationData);
  const h = hashInfo(ak.nameAlg);
  if (!h) throw attestationError('unsupported_algorithm', `nameAlg ${algName(ak.nameAlg)} is not supported`);
  if (!equalBytes(createHash(h.name).update(creationData.raw).digest(), attest.creationHash)) {
    throw attestationError('creation_mismatch', 'the creation data is not what the TPM certified');
  }
  return { attest, creationData };
}
