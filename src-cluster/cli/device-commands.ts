// `gatectl devices ...`: the device inventory. Devices are created through the generic
// resource API (the server makes the id and enforces unique asset tags); enroll tokens have
// their own call because the token is a secret that never becomes part of a resource.
import type { Command } from 'commander';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { DeviceResource } from '../resources/device.ts';
import { onAction } from '../../src-shared/cli/program.ts';
import {
  addAdminTargetOptions,
  adminClient,
  adminTargetOf,
  isUnimplementedCall,
  type AuthClient,
} from './admin-client.ts';
import { printTable } from './cli-util.ts';
import { EK_KEY_HASH_PATTERN } from '../../src-shared/device-credential.ts';
import { policyOf } from '../devicetrust/attestation-policy.ts';
import { decodeDeviceRows, deviceRow, enrollStatusText, type DeviceRow } from '../devicetrust/device-rows.ts';
import { durationProblem, parseDurationMs } from '../resources/duration.ts';
import type { ClusterAuthPreferenceResource } from '../resources/cluster-auth-preference.ts';

interface DeviceOptions {
  assetTag?: string;
  deviceId?: string;
  os?: string;
  enroll?: boolean;
  ekKeyHash?: string;
  ttl?: string;
}

/** --ttl as whole seconds for the request (the server checks the range); 0n = the default. */
function ttlSecondsOf(ttl: string | undefined): bigint {
  if (ttl === undefined) return 0n;
  const problem = durationProblem(ttl);
  if (problem) throw new GatehouseError(ErrorCode.BAD_REQUEST, `--ttl: ${problem}`);
  return BigInt(Math.max(1, Math.round(parseDurationMs(ttl) / 1000)));
}

function which(values: DeviceOptions, sub: string): { deviceId: string; assetTag: string } {
  const deviceId = values.deviceId ?? '';
  const assetTag = values.assetTag ?? '';
  if (!deviceId === !assetTag) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `devices ${sub} needs exactly one of --asset-tag T or --device-id ID`,
    );
  }
  return { deviceId, assetTag };
}

async function printToken(
  client: AuthClient,
  ref: { deviceId: string; assetTag: string },
  who: string,
  ttl?: string,
): Promise<void> {
  printTokenText(await client.createDeviceEnrollToken({ ...ref, ttlSeconds: ttlSecondsOf(ttl) }), who);
}

function printTokenText(t: { token: string; expiresUnix: bigint }, who: string): void {
  const expires = new Date(Number(t.expiresUnix) * 1000).toISOString();
  process.stdout.write(
    `Enroll token for device ${who} (single use, expires at ${expires}):\n\n  ${t.token}\n\n` +
      `On the device run (it asks for the token; keep it off command lines, where other users see it):\n  gate device enroll\n`,
  );
}

async function addDevice(client: () => AuthClient, v: DeviceOptions): Promise<void> {
  const assetTag = v.assetTag;
  if (!assetTag || !v.os)
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'devices add needs --asset-tag T and --os OS');
  const { osTypeProblem } = await import('../resources/device.ts');
  const problem = osTypeProblem(v.os);
  if (problem) throw new GatehouseError(ErrorCode.BAD_REQUEST, problem);
  const who = `"${assetTag}"/${v.os}`;
  const ekKeyHash = v.ekKeyHash;
  if (ekKeyHash !== undefined && !EK_KEY_HASH_PATTERN.test(ekKeyHash)) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `--ek-key-hash must be 64 lowercase hex digits, the "EK key hash" that "gate device keyget" prints on the device; got ${JSON.stringify(ekKeyHash)}`,
    );
  }
  const bound = () =>
    ekKeyHash && process.stdout.write(`Bound to the TPM with EK key hash ${ekKeyHash}: only that TPM can enroll\n`);
  if (v.enroll) {
    // One call: the device and its token are stored together or not at all.
    const t = await client().createDeviceEnrollToken({
      assetTag,
      addWithOs: v.os,
      addWithEkKeyHash: ekKeyHash ?? '',
      deviceId: '',
    });
    process.stdout.write(`Device ${who} added\nDevice ID: ${t.deviceId}\n`);
    bound();
    printTokenText(t, who);
    return;
  }
  const spec: Record<string, string> = { asset_tag: assetTag, os_type: v.os };
  if (ekKeyHash !== undefined) spec['ek_key_hash'] = ekKeyHash;
  // No id and no timestamps: the server makes them.
  const doc = { kind: 'device', version: 'v1', metadata: {}, spec };
  const res = await client().createResource({ resourceJson: JSON.stringify(doc), upsert: false });
  const device = JSON.parse(res.resourceJson) as DeviceResource;
  process.stdout.write(`Device ${who} added\nDevice ID: ${device.metadata.name}\n`);
  bound();
}

/**
 * The rows of a server older than ListDeviceRows, made here as it would: the full records (one
 * JSON array, or before as_json_array one text per device) judged under the policy it sends.
 */
async function rowsFromRecords(c: DeviceListClient): Promise<DeviceRow[]> {
  // The resource schemas (zod) load only on this path, not with the program (gatectl --help).
  const { CAP_KIND, CAP_NAME } = await import('../resources/cluster-auth-preference.ts');
  const [res, capRes] = await Promise.all([
    c.listResources({ kind: 'device', asJsonArray: true }),
    c.getResource({ kind: CAP_KIND, name: CAP_NAME }),
  ]);
  // A server older than as_json_array answers in resources_json (never both empty: "[]").
  const devices =
    res.resourcesJsonArray.length > 0
      ? (JSON.parse(new TextDecoder().decode(res.resourcesJsonArray)) as DeviceResource[])
      : res.resourcesJson.map((j) => JSON.parse(j) as DeviceResource);
  const cap = JSON.parse(capRes.resourceJson) as ClusterAuthPreferenceResource;
  const policy = policyOf(cap.spec.device_trust);
  const now = new Date();
  return devices.map((d) => deviceRow(d, policy, now));
}

/** The calls `gatectl devices ls` makes. */
export type DeviceListClient = Pick<AuthClient, 'listDeviceRows' | 'listResources' | 'getResource'>;

/** The devices ls rows: from ListDeviceRows, or made here from the records on an older server. */
export async function deviceRows(c: DeviceListClient): Promise<DeviceRow[]> {
  try {
    // One call; the server sends the table's columns, not 10,000 whole records.
    return decodeDeviceRows((await c.listDeviceRows({})).rowsJson);
  } catch (e) {
    if (!isUnimplementedCall(e, 'listDeviceRows')) throw e;
    return rowsFromRecords(c);
  }
}

async function listDevices(c: AuthClient): Promise<void> {
  const rows = await deviceRows(c);
  // One collator, not localeCompare per comparison (which sets one up each time): the same
  // order, ~20 ms less for 10,000 devices.
  const { compare } = new Intl.Collator();
  rows.sort((a, b) => compare(a[1], b[1]) || compare(a[2], b[2]));
  printTable(
    ['Asset Tag', 'OS', 'Enroll Status', 'Device ID'],
    rows.map((row) => [row[1], row[2], enrollStatusText(row), row[0]]),
  );
}

async function removeDevice(c: AuthClient, ref: { deviceId: string; assetTag: string }): Promise<void> {
  const device = JSON.parse(
    (await c.getResource({ kind: 'device', name: ref.deviceId || ref.assetTag })).resourceJson,
  ) as DeviceResource;
  await c.deleteResource({ kind: 'device', name: device.metadata.name });
  process.stdout.write(
    `Device "${device.spec.asset_tag}"/${device.spec.os_type} removed (id ${device.metadata.name})\n`,
  );
}

/** --asset-tag T | --device-id ID, on the commands that name one existing device. */
function addDeviceRefOptions(cmd: Command): Command {
  cmd.option('--asset-tag <T>', 'the device by its asset tag').option('--device-id <ID>', 'the device by its id');
  return addAdminTargetOptions(cmd);
}

export function registerDeviceCommands(program: Command): void {
  const devices = program.command('devices').summary('the device inventory: add, list, enroll tokens, remove');
  const client = (cmd: Command) => () => adminClient(adminTargetOf(cmd));

  const add = devices
    .command('add')
    .summary('register a device; --enroll also prints an enroll token')
    .description(
      'Registers a device. --ek-key-hash binds it to the TPM whose EK key hash "gate device keyget"\n' +
        'prints (only that TPM can enroll); --enroll also prints a single-use enroll token.',
    )
    .option('--asset-tag <T>', 'the serial number / asset tag ("gate device asset-tag" prints it)')
    .option('--os <OS>', 'linux, macos or windows')
    .option('--ek-key-hash <HASH>', 'bind the device to the TPM with this EK key hash')
    .option('--enroll', 'also make a single-use enroll token');
  addAdminTargetOptions(add);
  onAction(add, (cmd) => addDevice(client(cmd), cmd.opts<DeviceOptions>()));

  const ls = devices.command('ls').summary('list devices (flags enrolled devices that fail the policy)');
  addAdminTargetOptions(ls);
  onAction(ls, (cmd) => listDevices(client(cmd)()));

  const enroll = devices.command('enroll').summary('a new single-use enroll token for a device');
  addDeviceRefOptions(enroll);
  enroll.option('--ttl <DURATION>', 'how long the token stays valid (e.g. 15m; default 1h, at most 168h)');
  onAction(enroll, async (cmd) => {
    const opts = cmd.opts<DeviceOptions>();
    const ref = which(opts, 'enroll');
    await printToken(client(cmd)(), ref, ref.assetTag ? `"${ref.assetTag}"` : ref.deviceId, opts.ttl);
  });

  const rm = devices.command('rm').summary('remove a device');
  addDeviceRefOptions(rm);
  onAction(rm, async (cmd) => {
    const ref = which(cmd.opts<DeviceOptions>(), 'rm');
    await removeDevice(client(cmd)(), ref);
  });
}
