// What makes a key an attestation key we can trust (TCG EK/AK guidance, as Teleport checks it):
// it can only sign TPM-made structures (restricted + sign, not decrypt), it never leaves this TPM
// (fixedTPM, fixedParent) and it was generated inside it (sensitiveDataOrigin). Each failed rule is
// reported on its own so an admin sees exactly what is wrong with a device's key.
import { TPM_ALG, TPM_ECC_CURVE, algName } from './constants.ts';
import { attestationError } from './errors.ts';
import { hasAttribute, parsePublic, type TpmPublic } from './public.ts';

export type AkProblem =
  | 'not_restricted'
  | 'not_sign'
  | 'decrypt'
  | 'not_fixed_tpm'
  | 'not_fixed_parent'
  | 'not_sensitive_data_origin'
  | 'weak_name_alg'
  | 'rsa_too_small'
  | 'unsupported_curve';

export interface AkCheck {
  ok: boolean;
  problems: { problem: AkProblem; message: string }[];
}

export function checkAkProperties(akPublic: Buffer | TpmPublic): AkCheck {
  const ak = Buffer.isBuffer(akPublic) ? parsePublic(akPublic) : akPublic;
  const problems: AkCheck['problems'] = [];
  const add = (problem: AkProblem, message: string): void => void problems.push({ problem, message });
  if (!hasAttribute(ak, 'restricted'))
    add('not_restricted', 'the key is not restricted (it could sign forged attestations)');
  if (!hasAttribute(ak, 'sign')) add('not_sign', 'the key is not a signing key');
  if (hasAttribute(ak, 'decrypt')) add('decrypt', 'the key is also a decryption key');
  if (!hasAttribute(ak, 'fixedTPM'))
    add('not_fixed_tpm', 'the key is not fixedTPM (it could be duplicated off this TPM)');
  if (!hasAttribute(ak, 'fixedParent')) add('not_fixed_parent', 'the key is not fixedParent');
  if (!hasAttribute(ak, 'sensitiveDataOrigin')) {
    add('not_sensitive_data_origin', 'the key was not generated inside the TPM (sensitiveDataOrigin is clear)');
  }
  if (ak.nameAlg !== TPM_ALG.SHA256 && ak.nameAlg !== TPM_ALG.SHA384 && ak.nameAlg !== TPM_ALG.SHA512) {
    add('weak_name_alg', `the key's nameAlg ${algName(ak.nameAlg)} is not SHA-256 or stronger`);
  }
  if (ak.type === 'rsa' && (ak.keyBits < 2048 || ak.modulus.length * 8 < 2048)) {
    add('rsa_too_small', `the RSA key has ${ak.keyBits} bits (at least 2048 required)`);
  }
  if (ak.type === 'ecc' && ak.curveId !== TPM_ECC_CURVE.NIST_P256) {
    add('unsupported_curve', `the ECC key's curve 0x${ak.curveId.toString(16)} is not NIST P-256`);
  }
  return { ok: problems.length === 0, problems };
}

/** checkAkProperties that throws DEVICE_ATTESTATION_FAILED (reason ak_properties) listing every problem. */
export function assertAkProperties(akPublic: Buffer | TpmPublic): void {
  const { ok, problems } = checkAkProperties(akPublic);
  if (!ok) {
    throw attestationError(
      'ak_properties',
      `not an acceptable attestation key: ${problems.map((p) => p.message).join('; ')}`,
      {
        problems: problems.map((p) => p.problem),
      },
    );
  }
}
