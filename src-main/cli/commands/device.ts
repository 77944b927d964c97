// `gate device collect|asset-tag|keyget`: what this machine reports about itself and its TPM
// attestation key, so a user can hand the asset tag to an admin and check the TPM works before
// enrolling.
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { credentialIdFromAkPublic, describeAkPublic, ekKeyHash } from '../../../src-shared/device-credential.ts';
import { resolveGatehouseHome } from '../../core/files.ts';
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
import { parseCommandArgs, showHelp, type Command, type CommandContext } from '../context.ts';
import { note, print } from '../io.ts';
import { enrollCommand } from './device-enroll.ts';

function collectDeps(ctx: CommandContext): CollectDeps {
  return { fs: nodeCollectFs, env: ctx.env };
}

const collectCommand: Command = {
  name: 'device collect',
  usage: `Usage: gate device collect [--privileged]

Prints the device data this machine reports to the cluster (JSON): OS, model, serial number
and where it came from, host and user names.

The DMI serial files (/sys/class/dmi/id/product_serial, board_serial) are readable by root only.
Run "sudo gate device collect --privileged" once: it reads them as root and caches what it found
(default /var/cache/gatehouse/dmi-serials.json, or $GATEHOUSE_DMI_CACHE) for later runs.
Machines without DMI data (VMs, containers) report a serial derived from /etc/machine-id.

Options:
  --privileged   read the root-only serial files and cache them (must run as root)
`,
  async run(ctx) {
    const { values } = parseCommandArgs(this, ctx.args, { privileged: { type: 'boolean' } });
    if (values.help) return showHelp(ctx, this);
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
  },
};

const assetTagCommand: Command = {
  name: 'device asset-tag',
  usage: `Usage: gate device asset-tag

Prints the serial number / asset tag this device registers with (give it to your administrator
for "gatectl devices add --asset-tag"). Where it came from is printed on stderr.
`,
  async run(ctx) {
    const { values } = parseCommandArgs(this, ctx.args, {});
    if (values.help) return showHelp(ctx, this);
    const data = collectDeviceData(collectDeps(ctx));
    print(ctx.io, data.serial_number);
    note(ctx.io, `source: ${data.serial_source}${data.serial_note ? ` (${data.serial_note})` : ''}`);
    return 0;
  },
};

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

const keygetCommand: Command = {
  name: 'device keyget',
  usage: `Usage: gate device keyget [--format text|json]

Opens the TPM, creates the attestation key on first use (its TPM-wrapped blob is kept in
$GATEHOUSE_HOME/device) and prints the device credential id (SHA-256 of the AK's TPMT_PUBLIC),
the EK key hash (SHA-256 of the EK's DER SubjectPublicKeyInfo: give it to your administrator for
"gatectl devices add --ek-key-hash" to bind the device to this TPM), the AK's algorithm and public
key, and whether the TPM has an EK certificate.

The TPM is $GATEHOUSE_TPM_TCTI (a tpm2-tss TCTI string), default device:/dev/tpmrm0.

Options:
  --format text|json   output format (default text)
`,
  async run(ctx) {
    const { values } = parseCommandArgs(this, ctx.args, { format: { type: 'string', default: 'text' } });
    if (values.help) return showHelp(ctx, this);
    if (values.format !== 'text' && values.format !== 'json') {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `gate device keyget: --format must be text or json`);
    }
    const tpm = await TpmClient.open({
      cacheDir: join(resolveGatehouseHome(ctx.env), 'device'),
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
  },
};

const SUBCOMMANDS: Command[] = [collectCommand, assetTagCommand, keygetCommand, enrollCommand];

export const deviceCommand: Command = {
  name: 'device',
  usage: `Usage: gate device <command> [options]

Device trust: what this machine reports about itself and its TPM.

Commands:
  collect     print the collected device data (JSON); --privileged caches root-only serials
  asset-tag   print the serial number / asset tag this device registers with
  keyget      print the TPM attestation key's credential id and public information
  enroll      enroll this device in your cluster with a one-time token (asked for, or --token-stdin)

Run "gate device <command> --help" for a command's options.
`,
  async run(ctx) {
    const [sub, ...rest] = ctx.args;
    if (sub === undefined) {
      print(ctx.io, this.usage.trimEnd());
      return 2;
    }
    if (sub === '--help' || sub === '-h' || sub === 'help') return showHelp(ctx, this);
    const cmd = SUBCOMMANDS.find((c) => c.name === `device ${sub}`);
    if (!cmd)
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `unknown command "gate device ${sub}"\n\n${this.usage.trimEnd()}`,
      );
    return cmd.run({ ...ctx, args: rest });
  },
};
