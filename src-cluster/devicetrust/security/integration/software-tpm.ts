// Test-only: the attacker of issue 11's "software TPMs under the default policy" — a client with
// an enroll token and no TPM at all. Its EK and AK are plain node:crypto keys marshalled as TPM
// structures, it "certifies" the AK's creation and quotes by signing with that key, and it does
// TPM2_ActivateCredential in software (it holds the EK's private key, which a real TPM never
// reveals). Everything it sends is well-formed, so only the cluster's policy can tell it apart.
import { constants, createDecipheriv, createHash, createHmac, privateDecrypt, randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import {
  EnrollDeviceRequestSchema,
  type EnrollDeviceRequest,
  type TpmEncryptedCredential,
} from '../../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { credentialIdFromAkPublic } from '../../../../src-shared/device-credential.ts';
import { TPM_ALG, TPM_GENERATED_VALUE, TPM_ST_ATTEST } from '../../tpm/constants.ts';
import { kdfa } from '../../tpm/credential.ts';
import { parsePublic, tpmName } from '../../tpm/public.ts';
import { tpm2b, u16, u32 } from '../../tpm/reader.ts';
import { softQuoteAttest, softRsaKey, softSign, type SoftKey } from '../../../test-support/tpm-test-structures.ts';
import { collectedData } from '../../integration/ceremony-device.ts';

const EK_ATTRIBUTES = [
  'fixedTPM',
  'fixedParent',
  'sensitiveDataOrigin',
  'adminWithPolicy',
  'restricted',
  'decrypt',
] as const;

export interface SoftwareTpm {
  ek: SoftKey;
  ak: SoftKey;
  /** TPMS_CREATION_DATA the AK is said to have been created with. */
  creationData: Buffer;
  /** TPMS_ATTEST (creation) over it, signed by the AK: TPM2_CertifyCreation forged in software. */
  createAttestation: Buffer;
  createSignature: Buffer;
  credentialId: string;
  /** The "boot measurements" it reports (any values: it signs whatever it claims). */
  pcrs: Map<number, Buffer>;
}

function attestHeader(type: number): Buffer {
  const clock = Buffer.alloc(17);
  clock.writeBigUInt64BE(1n, 0);
  return Buffer.concat([
    u32(TPM_GENERATED_VALUE),
    u16(type),
    tpm2b(Buffer.concat([u16(TPM_ALG.SHA256), randomBytes(32)])), // qualifiedSigner
    tpm2b(Buffer.alloc(0)), // extraData
    clock,
    Buffer.alloc(8), // firmwareVersion
  ]);
}

export function softwareTpm(): SoftwareTpm {
  const ek = softRsaKey({ attributes: [...EK_ATTRIBUTES], aes128cfb: true, scheme: TPM_ALG.NULL });
  const ak = softRsaKey();
  const creationData = Buffer.concat([
    u32(0), // no PCR selection
    tpm2b(Buffer.alloc(0)), // pcrDigest
    Buffer.from([0]), // locality
    u16(TPM_ALG.SHA256),
    tpm2b(Buffer.concat([u16(TPM_ALG.SHA256), randomBytes(32)])), // "parent" name
    tpm2b(Buffer.concat([u16(TPM_ALG.SHA256), randomBytes(32)])),
    tpm2b(Buffer.alloc(0)), // outsideInfo
  ]);
  const createAttestation = Buffer.concat([
    attestHeader(TPM_ST_ATTEST.CREATION),
    tpm2b(tpmName(parsePublic(ak.tpmtPublic))),
    tpm2b(createHash('sha256').update(creationData).digest()),
  ]);
  return {
    ek,
    ak,
    creationData,
    createAttestation,
    createSignature: softSign(ak, createAttestation),
    credentialId: credentialIdFromAkPublic(ak.tpmtPublic),
    pcrs: new Map([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i, randomBytes(32)])),
  };
}

/** The enrollment init a real client sends, with the software keys (EK public only, no certificate). */
export function softwareEnrollInit(t: SoftwareTpm, token: string, serial: string): EnrollDeviceRequest {
  return create(EnrollDeviceRequestSchema, {
    payload: {
      case: 'init',
      value: {
        token,
        credentialId: t.credentialId,
        deviceData: collectedData(serial),
        tpm: {
          ekPublic: t.ek.tpmtPublic,
          attestationParameters: {
            public: t.ak.tpmtPublic,
            createData: t.creationData,
            createAttestation: t.createAttestation,
            createSignature: t.createSignature,
          },
        },
      },
    },
  });
}

/**
 * TPM2_ActivateCredential in software (Part 1 §24): decrypt the seed with the EK private key,
 * check the outer HMAC over the AK's name, decrypt the credential. The wire blobs lack the TPM2B size.
 */
export function softwareActivate(t: SoftwareTpm, sealed: TpmEncryptedCredential): Buffer {
  const seed = privateDecrypt(
    {
      key: t.ek.privateKey,
      padding: constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: 'sha256',
      oaepLabel: Buffer.from('IDENTITY\0'),
    },
    Buffer.from(sealed.secret),
  );
  const blob = Buffer.from(sealed.credentialBlob);
  const hmacSize = blob.readUInt16BE(0);
  const outerHmac = blob.subarray(2, 2 + hmacSize);
  const encIdentity = blob.subarray(2 + hmacSize);
  const akName = tpmName(parsePublic(t.ak.tpmtPublic));
  const hmacKey = kdfa('sha256', seed, 'INTEGRITY', Buffer.alloc(0), Buffer.alloc(0), 256);
  const expected = createHmac('sha256', hmacKey).update(encIdentity).update(akName).digest();
  if (!expected.equals(outerHmac)) throw new Error('software ActivateCredential: integrity check failed');
  const symKey = kdfa('sha256', seed, 'STORAGE', akName, Buffer.alloc(0), 128);
  const decipher = createDecipheriv('aes-128-cfb', symKey, Buffer.alloc(16));
  const identity = Buffer.concat([decipher.update(encIdentity), decipher.final()]);
  return identity.subarray(2, 2 + identity.readUInt16BE(0));
}

/** A quote over the nonce and the requested PCRs, signed by the software AK. */
export function softwareQuote(t: SoftwareTpm, nonce: Uint8Array, pcrs: readonly number[]) {
  const chosen = new Map(pcrs.map((i) => [i, t.pcrs.get(i) ?? Buffer.alloc(32)]));
  const attest = softQuoteAttest(Buffer.from(nonce), chosen);
  return {
    quote: { quote: attest, signature: softSign(t.ak, attest) },
    pcrs: [...chosen].map(([index, value]) => ({ index, value })),
  };
}
