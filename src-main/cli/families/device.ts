// `gate device collect|asset-tag|keyget|enroll`: device trust on this machine. Declared here
// (options, help), implemented in commands/device.ts and commands/device-enroll.ts.
import { Option, type Command } from 'commander';
import { gateAction, type ContextFactory } from '../context.ts';
import { addTokenOptions, TOKEN_ENV } from '../token-input.ts';

const COLLECT_DESCRIPTION = `Prints the device data this machine reports to the cluster (JSON): OS, model, serial number
and where it came from, host and user names.

The DMI serial files (/sys/class/dmi/id/product_serial, board_serial) are readable by root only.
Run "sudo gate device collect --privileged" once: it reads them as root and caches what it found
(default /var/cache/gatehouse/dmi-serials.json, or $GATEHOUSE_DMI_CACHE) for later runs.
Machines without DMI data (VMs, containers) report a serial derived from /etc/machine-id.`;

const KEYGET_DESCRIPTION = `Opens the TPM, creates the attestation key on first use (its TPM-wrapped blob is kept in
$GATEHOUSE_HOME/device) and prints the device credential id (SHA-256 of the AK's TPMT_PUBLIC),
the EK key hash (SHA-256 of the EK's DER SubjectPublicKeyInfo: give it to your administrator for
"gatectl devices add --ek-key-hash" to bind the device to this TPM), the AK's algorithm and public
key, and whether the TPM has an EK certificate.

The TPM is $GATEHOUSE_TPM_TCTI (a tpm2-tss TCTI string), default device:/dev/tpmrm0.`;

const ENROLL_DESCRIPTION = `Enrolls this device in the cluster of your current login: proves to the cluster, with the TPM,
that the attestation key lives in this machine's TPM, and registers that key for the device your
administrator added. Needs "gate login" first. The token is single use and expires; it is read
from --token-stdin, $${TOKEN_ENV}, piped standard input, or asked for on a terminal.

After enrolling, "gate login" to that cluster makes device-trusted certificates.`;

export function registerDeviceCommands(program: Command, context: ContextFactory): void {
  const device = program
    .command('device')
    .summary('device trust: collected device data, asset tag, TPM attestation key')
    .description('Device trust: what this machine reports about itself and its TPM.');

  const collect = device
    .command('collect')
    .summary('print the collected device data (JSON); --privileged caches root-only serials')
    .description(COLLECT_DESCRIPTION)
    .option('--privileged', 'read the root-only serial files and cache them (must run as root)');
  gateAction(collect, context, async () => {
    const { collect: run } = await import('../commands/device.ts');
    return (ctx, cmd) => run(ctx, cmd.opts<{ privileged?: boolean }>());
  });

  const assetTag = device
    .command('asset-tag')
    .summary('print the serial number / asset tag this device registers with')
    .description(
      'Prints the serial number / asset tag this device registers with (give it to your administrator\n' +
        'for "gatectl devices add --asset-tag"). Where it came from is printed on stderr.',
    );
  gateAction(assetTag, context, async () => (await import('../commands/device.ts')).assetTag);

  const keyget = device
    .command('keyget')
    .summary("print the TPM attestation key's credential id and public information")
    .description(KEYGET_DESCRIPTION)
    .addOption(new Option('--format <FORMAT>', 'output format').choices(['text', 'json']).default('text'));
  gateAction(keyget, context, async () => {
    const { keyget: run } = await import('../commands/device.ts');
    return (ctx, cmd) => run(ctx, cmd.opts<{ format: 'text' | 'json' }>());
  });

  const enroll = device
    .command('enroll')
    .summary('enroll this device in your cluster with a one-time token (asked for, or --token-stdin)')
    .description(ENROLL_DESCRIPTION)
    .usage('[--token-stdin]');
  addTokenOptions(enroll);
  gateAction(enroll, context, async () => {
    const { enroll: run } = await import('../commands/device-enroll.ts');
    return (ctx, cmd) => run(ctx, cmd.opts<{ token?: string; tokenStdin?: boolean }>());
  });
}
