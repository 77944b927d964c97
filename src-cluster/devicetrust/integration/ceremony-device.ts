// Test-only: the client half of the device ceremonies, played by tpm2-tools (the reference TSS)
// against a swtpm, so the server half is checked against what a real TPM produces: an AK made
// with its creation data and certifying its own creation, TPM2_ActivateCredential on the server's
// challenge, and quotes over the server's nonce with the PCR values they cover.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { credentialIdFromAkPublic } from '../../../src-shared/device-credential.ts';
import {
  AuthenticateDeviceRequestSchema,
  EnrollDeviceRequestSchema,
  type AuthenticateDeviceRequest,
  type EnrollDeviceRequest,
  type TpmEncryptedCredentialSchema,
  type TpmPlatformParametersSchema,
} from '../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { startSwtpm, type Swtpm } from '../../../test-support/swtpm.ts';
import { QUOTE_PCRS } from '../ceremony-stream.ts';
import { createEk, type KeyFiles } from './tpm-fixture.ts';
import { activateCredential, encodeCredentialFile, flushAll, tpm2 } from './tpm2-tools.ts';

/** A TPM as a device has it: an RSA EK with the manufacturer's certificate, and an owner SRK. */
export interface DeviceTpm {
  tpm: Swtpm;
  dir: string;
  ek: KeyFiles;
  /** DER EK certificate from NV 0x01c00002 (RSA EK), signed by the swtpm's local CA. */
  ekCertDer: Buffer;
  srk: string;
  close(): Promise<void>;
}

/** An attestation key with everything enrollment sends about it. */
export interface DeviceAk {
  ctx: string;
  /** TPM2B_PUBLIC as tpm2_create wrote it. */
  pub: Buffer;
  /** TPM2B_CREATION_DATA from tpm2_create --creation-data. */
  creationData: Buffer;
  /** TPM2_CertifyCreation by the key itself: TPMS_ATTEST and TPMT_SIGNATURE. */
  createAttestation: Buffer;
  createSignature: Buffer;
  credentialId: string;
}

export type PlatformParameters = MessageInitShape<typeof TpmPlatformParametersSchema>;
export type EncryptedCredential = MessageInitShape<typeof TpmEncryptedCredentialSchema>;

export async function startDeviceTpm(): Promise<DeviceTpm> {
  const tpm = await startSwtpm();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ceremony-'));
  const close = async () => {
    await tpm.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ek = createEk(tpm, dir, 'ek', 'rsa');
    const certFile = join(dir, 'ek-cert.der');
    tpm2(tpm, 'nvread', ['0x01c00002', '-o', certFile]);
    const srk = join(dir, 'srk.ctx');
    tpm2(tpm, 'createprimary', ['-C', 'o', '-c', srk]);
    flushAll(tpm);
    // Non-zero boot measurements, so a quote's PCR digest cannot match by accident.
    tpm2(tpm, 'pcrextend', [`7:sha256=${randomBytes(32).toString('hex')}`]);
    return { tpm, dir, ek, ekCertDer: readFileSync(certFile), srk, close };
  } catch (e) {
    await close();
    throw e;
  }
}

const AK_ATTRIBUTES = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign';

/**
 * An AK under the SRK, the way the client makes one: tpm2_create with creation data, then
 * tpm2_certifycreation signed by the new key. `restricted: false` makes a plain signing key that
 * the TPM still quotes and certifies with — the key a forger would want enrolled.
 */
export function createDeviceAk(d: DeviceTpm, label: string, opts: { restricted?: boolean } = {}): DeviceAk {
  const p = (ext: string) => join(d.dir, `${label}.${ext}`);
  const attributes = opts.restricted === false ? AK_ATTRIBUTES : `${AK_ATTRIBUTES}|restricted`;
  tpm2(d.tpm, 'create', [
    '-C',
    d.srk,
    '-G',
    'rsa2048:rsassa-sha256:null',
    '-a',
    attributes,
    '-u',
    p('pub'),
    '-r',
    p('priv'),
    '--creation-data',
    p('cd'),
    '--creation-ticket',
    p('ticket'),
    '--creation-hash',
    p('hash'),
  ]);
  flushAll(d.tpm);
  tpm2(d.tpm, 'load', ['-C', d.srk, '-u', p('pub'), '-r', p('priv'), '-c', p('ctx')]);
  flushAll(d.tpm);
  tpm2(d.tpm, 'certifycreation', [
    '-C',
    p('ctx'),
    '-c',
    p('ctx'),
    '-d',
    p('hash'),
    '-t',
    p('ticket'),
    '-g',
    'sha256',
    '-o',
    p('ccsig'),
    '--attestation',
    p('ccattest'),
  ]);
  flushAll(d.tpm);
  const pub = readFileSync(p('pub'));
  return {
    ctx: p('ctx'),
    pub,
    creationData: readFileSync(p('cd')),
    createAttestation: readFileSync(p('ccattest')),
    createSignature: readFileSync(p('ccsig')),
    credentialId: credentialIdFromAkPublic(pub),
  };
}

export interface EnrollInitOptions {
  token: string;
  serial: string;
  /** Send the EK certificate (default true); false sends the EK public key only. */
  ekCert?: boolean;
  /** Override what is claimed (for the attacks). */
  credentialId?: string;
  ekPublic?: Buffer;
}

export function collectedData(serial: string) {
  return { osType: 'linux', serialNumber: serial, serialSource: 'dmi', hostname: 'ceremony-test', osId: 'debian' };
}

export function enrollInit(d: DeviceTpm, ak: DeviceAk, o: EnrollInitOptions): EnrollDeviceRequest {
  return create(EnrollDeviceRequestSchema, {
    payload: {
      case: 'init',
      value: {
        token: o.token,
        credentialId: o.credentialId ?? ak.credentialId,
        deviceData: collectedData(o.serial),
        tpm: {
          ekPublic: o.ekPublic ?? d.ek.pub,
          ekCert: o.ekCert === false ? new Uint8Array() : d.ekCertDer,
          attestationParameters: {
            public: ak.pub,
            createData: ak.creationData,
            createAttestation: ak.createAttestation,
            createSignature: ak.createSignature,
          },
        },
      },
    },
  });
}

/** TPM2_ActivateCredential on the server's challenge (whose blobs lack the TPM2B size): the recovered secret. */
export function activate(d: DeviceTpm, ak: DeviceAk, sealed: EncryptedCredential): Buffer {
  const tpm2b = (b: Uint8Array | undefined) => {
    const body = Buffer.from(b ?? new Uint8Array());
    const size = Buffer.alloc(2);
    size.writeUInt16BE(body.length);
    return Buffer.concat([size, body]);
  };
  const file = join(d.dir, `challenge-${process.hrtime.bigint()}.cred`);
  writeFileSync(file, encodeCredentialFile(tpm2b(sealed.credentialBlob), tpm2b(sealed.secret)));
  return activateCredential(d.tpm, d.dir, ak.ctx, d.ek.ctx, file);
}

/** tpm2_quote over the nonce and the requested SHA-256 PCRs, with the values tpm2_quote read. */
export function quote(d: DeviceTpm, ak: DeviceAk, nonce: Uint8Array, pcrs: readonly number[] = QUOTE_PCRS) {
  const id = process.hrtime.bigint();
  const p = (ext: string) => join(d.dir, `quote-${id}.${ext}`);
  tpm2(d.tpm, 'quote', [
    '-c',
    ak.ctx,
    '-l',
    `sha256:${pcrs.join(',')}`,
    '-q',
    Buffer.from(nonce).toString('hex'),
    '-m',
    p('msg'),
    '-s',
    p('sig'),
    '-o',
    p('pcrs'),
    '-F',
    'values',
    '-g',
    'sha256',
  ]);
  flushAll(d.tpm);
  // tpm2_quote -o writes the quoted values as they were read, concatenated in selection order.
  const raw = readFileSync(p('pcrs'));
  if (raw.length !== pcrs.length * 32) throw new Error(`tpm2_quote -o wrote ${raw.length} bytes of PCR values`);
  return {
    quote: { quote: readFileSync(p('msg')), signature: readFileSync(p('sig')) },
    pcrs: pcrs.map((index, k) => ({ index, value: raw.subarray(k * 32, k * 32 + 32) })),
  } satisfies PlatformParameters;
}

export function enrollAnswer(solution: Uint8Array, platform: PlatformParameters): EnrollDeviceRequest {
  return create(EnrollDeviceRequestSchema, {
    payload: { case: 'tpmChallengeResponse', value: { solution, platformParameters: platform } },
  });
}

export function authInit(o: {
  sshCertificate: string;
  tlsCertificatePem: string;
  credentialId: string;
  serial: string;
}): AuthenticateDeviceRequest {
  return create(AuthenticateDeviceRequestSchema, {
    payload: {
      case: 'init',
      value: {
        userCertificates: { sshCertificate: o.sshCertificate, tlsCertificate: o.tlsCertificatePem },
        credentialId: o.credentialId,
        deviceData: collectedData(o.serial),
      },
    },
  });
}

export function authAnswer(platform: PlatformParameters): AuthenticateDeviceRequest {
  return create(AuthenticateDeviceRequestSchema, {
    payload: { case: 'tpmChallengeResponse', value: { platformParameters: platform } },
  });
}

/** A copy with one bit flipped, for tampering. */
export function flip(b: Uint8Array, at: number): Buffer {
  const c = Buffer.from(b);
  c[at < 0 ? c.length + at : at]! ^= 0x01;
  return c;
}
