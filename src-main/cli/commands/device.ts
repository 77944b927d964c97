// `gate device collect|asset-tag|keyget`: what this machine reports about itself and its TPM
// attestation key, so a user can hand the asset tag to an admin and check the TPM works before
// enrolling.
import { X509Certificate } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { credentialIdFromAkPublic, describeAkPublic, ekKeyHash } from '../../../src-shared/device-credential.ts';
import {
  collectDeviceData,
  DMI_DIR,
  dmiCachePath,
  nodeCollectFs,
  readDmiSerialsAsRoot,
  writeDmiCache,
  type CollectDeps,
} from '../../device/collect.ts';
import { TpmClient, tctiFrom } from '../../device/tpm/tpm-client.ts';
import type { CommandContext } from '../context.ts';
import { note, print } from '../io.ts';

function collectDeps(ctx: CommandContext): CollectDeps {
  return { fs: nodeCollectFs, env: ctx.env };
}

/** `gate device collect [--privileged]`. */
export async function collect(ctx: CommandContext, values: { privileged?: boolean }): Promise<number> {
  const deps = collectDeps(ctx);
  if (values.privileged) {
    if (process.getuid?.() !== 0) {
      throw new GatehouseError(
        ErrorCode.ACCESS_DENIED,
        'gate device collect --privileged must run as root: sudo gate device collect --privileged',
        { reason: 'DMI_SERIAL_NEEDS_ROOT' },
      );
    }
    if (!deps.fs.exists(DMI_DIR)) {
      note(ctx.io, `No DMI data on this machine (${DMI_DIR} does not exist): nothing to cache.`);
    } else {
      const path = dmiCachePath(deps);
      writeDmiCache(path, readDmiSerialsAsRoot(deps));
      note(ctx.io, `Cached the DMI serials in ${path}.`);
    }
  }
  print(ctx.io, JSON.stringify(collectDeviceData(deps), null, 2));
  return 0;
}

/** `gate device asset-tag`: the tag on stdout, where it came from on stderr. */
export async function assetTag(ctx: CommandContext): Promise<number> {
  const data = collectDeviceData(collectDeps(ctx));
  print(ctx.io, data.serial_number);
  note(ctx.io, `source: ${data.serial_source}${data.serial_note ? ` (${data.serial_note})` : ''}`);
  return 0;
}

export interface KeyInfo {
  credential_id: string;
  /** What an admin passes to `gatectl devices add --ek-key-hash` to bind the device to this TPM. */
  ek_key_hash: string;
  tcti: string;
  ak: {
    algorithm: string;
    key_bits: number;
    curve?: string;
    scheme: string;
    name_alg: string;
    attributes: string[];
    public_key_pem: string;
  };
  ek_certificate: { present: false } | { present: true; serial: string; subject: string; issuer: string };
}

async function keyInfo(tpm: TpmClient): Promise<KeyInfo> {
  const ak = await tpm.attestationKey();
  const info = describeAkPublic(ak.public);
  const ekDer = await tpm.ekCertificate();
  let ek: KeyInfo['ek_certificate'] = { present: false };
  if (ekDer) {
    const cert = new X509Certificate(ekDer);
    ek = { present: true, serial: cert.serialNumber.toLowerCase(), subject: cert.subject, issuer: cert.issuer };
  }
  return {
    credential_id: credentialIdFromAkPublic(ak.public),
    ek_key_hash: ekKeyHash(await tpm.ekPublic()),
    tcti: tpm.tcti,
    ak: {
      algorithm: info.algorithm,
      key_bits: info.keyBits,
      ...(info.curve ? { curve: info.curve } : {}),
      scheme: info.scheme,
      name_alg: info.nameAlg,
      attributes: info.attributes,
      public_key_pem: info.publicKeyPem,
    },
    ek_certificate: ek,
  };
}

function keyInfoText(k: KeyInfo): string {
  const alg = k.ak.curve ? `ECC ${k.ak.curve}` : `${k.ak.algorithm} ${k.ak.key_bits}`;
  const ek = k.ek_certificate.present
    ? `yes (serial ${k.ek_certificate.serial}, issuer ${k.ek_certificate.issuer.replace(/\n/g, ', ')})`
    : 'no (the EK public key is used instead)';
  return [
    `Credential ID:   ${k.credential_id}`,
    `EK key hash:     ${k.ek_key_hash}`,
    `TPM:             ${k.tcti}`,
    `AK algorithm:    ${alg}, scheme ${k.ak.scheme}, name alg ${k.ak.name_alg}`,
    `AK attributes:   ${k.ak.attributes.join(' | ')}`,
    `EK certificate:  ${ek}`,
    `AK public key:`,
    k.ak.public_key_pem.trimEnd(),
  ].join('\n');
}

/** `gate device keyget [--format text|json]`. */
export async function keyget(ctx: CommandContext, values: { format: 'text' | 'json' }): Promise<number> {
  const tpm = await TpmClient.open({
    cacheDir: ctx.core.deviceHome,
    tcti: tctiFrom({ env: ctx.env }),
    onNotice: (m) => note(ctx.io, m),
  });
  let info: KeyInfo;
  try {
    info = await keyInfo(tpm);
  } finally {
    await tpm.close();
  }
  print(ctx.io, values.format === 'json' ? JSON.stringify(info, null, 2) : keyInfoText(info));
  return 0;
}
