// `gate device collect|asset-tag|keyget|enroll|status|diagnose`: device trust on this machine.
// Declared here (options, help), implemented in commands/device.ts, device-enroll.ts and
// device-status.ts.
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
With --auto no token is needed: when the cluster has auto-enroll on and your administrator
registered this device ("gatectl devices add"), the cluster makes the token for you.

Right after enrolling, your current login is device-authenticated: it is device-trusted at once,
without "gate login" again. The enrollment is kept in the device store shared with the desktop
app ($GATEHOUSE_DEVICE_HOME, else $GATEHOUSE_HOME/device, else ~/.local/share/gatehouse/device),
so the app's logins are device-trusted too.`;

const STATUS_DESCRIPTION = `Prints what the desktop app's "This device" screen shows: the asset tag and where it came from,
OS and host name, whether the TPM can be used (and if not, why and what fixes it), and with a
login: what the cluster knows about this device (registered, enrolled, credential, auto-enroll,
locks) and whether this session is device-trusted.`;

const DIAGNOSE_DESCRIPTION = `Prints everything your helpdesk needs when device trust does not work: this device, its TPM,
the local enrollment record, the cluster's view of the device, this session's device trust and
the last device trust errors on this machine. No keys, tokens or certificates: safe to paste
into a ticket. The desktop app's "Copy diagnostics" copies the same text.`;

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
    .usage('[--token-stdin | --auto]')
    .option('--auto', 'no token: ask the cluster for one (auto-enroll must be on, the device registered)');
  addTokenOptions(enroll);
  gateAction(enroll, context, async () => {
    const { enroll: run } = await import('../commands/device-enroll.ts');
    return (ctx, cmd) => run(ctx, cmd.opts<{ token?: string; tokenStdin?: boolean; auto?: boolean }>());
  });

  const status = device
    .command('status')
    .summary('this device, its TPM and what your cluster knows about it ("This device" in the app)')
    .description(STATUS_DESCRIPTION)
    .option('--proxy <ADDRESS>', 'the cluster to ask (default: your current login)')
    .option('--refresh', 'probe the TPM again instead of using the cached answer');
  gateAction(status, context, async () => {
    const { status: run } = await import('../commands/device-status.ts');
    return (ctx, cmd) => run(ctx, cmd.opts<{ proxy?: string; refresh?: boolean }>());
  });

  const diagnose = device
    .command('diagnose')
    .summary('device trust diagnostics for your helpdesk (no secrets)')
    .description(DIAGNOSE_DESCRIPTION)
    .option('--proxy <ADDRESS>', 'the cluster to ask (default: your current login)')
    .addOption(new Option('--format <FORMAT>', 'output format').choices(['text', 'json']).default('text'));
  gateAction(diagnose, context, async () => {
    const { diagnose: run } = await import('../commands/device-status.ts');
    return (ctx, cmd) => run(ctx, cmd.opts<{ proxy?: string; format: 'text' | 'json' }>());
  });
}
