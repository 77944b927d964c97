// `gatectl create -f`, `get`, `edit`, `rm`: resources by KIND/NAME. YAML in, validated locally
// first (so errors point at the line in *your* file), then sent; the server validates again and is
// the authority.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KindRegistry, Resource } from '../resources/index.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Command } from 'commander';
import { onAction } from '../../src-shared/cli/program.ts';
import { addAdminTargetOptions, adminClient, adminTargetOf, type AuthClient } from './admin-client.ts';
import { singletonWords, splitKindName } from './cli-util.ts';
import { printLocks } from './lock-commands.ts';

/**
 * The YAML/JSON codecs and schemas (yaml, zod), loaded when a command runs: the program is declared
 * for every gatectl invocation, including `--help`, which must not pay for them.
 */
const resourceCodecs = () => import('../resources/index.ts');

const KIND_WORDS: Record<string, string> = { role: 'role', user: 'user', db: 'database' };

export async function createResources(
  client: AuthClient,
  registry: KindRegistry,
  file: string | undefined,
  force: boolean,
): Promise<void> {
  if (!file) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'usage: gatectl create -f FILE.yaml [--force]');
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  // All documents are validated before the first is sent: a typo in the third saves nothing.
  const { parseResources } = await resourceCodecs();
  const resources = parseResources(text, registry);
  if (resources.length === 0) throw new GatehouseError(ErrorCode.INVALID_RESOURCE, `${file} contains no resources`);
  for (const r of resources) {
    const word = KIND_WORDS[r.kind] ?? r.kind;
    if (r.kind === 'user' && !force) {
      const res = await client.createUser({ userJson: JSON.stringify(r), password: '' });
      process.stdout.write(
        `user "${r.metadata.name}" has been created; one-time password-set token: ${res.resetToken}\n`,
      );
      continue;
    }
    if (registry.get(r.kind)?.singleton) {
      // One per cluster and always present: creating it means replacing it.
      await client.createResource({ resourceJson: JSON.stringify(r), upsert: true });
      process.stdout.write(`${singletonWords(r.kind)} has been updated\n`);
      continue;
    }
    const res = await client.createResource({ resourceJson: JSON.stringify(r), upsert: force });
    process.stdout.write(`${word} "${r.metadata.name}" has been ${res.created ? 'created' : 'updated'}\n`);
  }
}

// node:child_process and node:readline load only in `gatectl edit`: every other gatectl command
// (and --help) would pay for them at start, since this module registers the commands.
async function launchEditor(path: string): Promise<void> {
  const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(editor, [path], { stdio: 'inherit', shell: true });
  if (r.error || r.status !== 0) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `editor "${editor}" failed (${r.error?.message ?? `exit ${r.status}`}); nothing was changed`,
    );
  }
}

async function askYes(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(question);
  rl.close();
  return !/^n/i.test(answer.trim());
}

export async function editResource(
  client: AuthClient,
  registry: KindRegistry,
  kind: string,
  ref: string,
): Promise<void> {
  const current = JSON.parse((await client.getResource({ kind, name: ref })).resourceJson) as Resource & {
    metadata: { revision?: number };
  };
  // The server may resolve another reference (a device's asset tag) to the stored name.
  const name = current.metadata.name;
  const revision = current.metadata.revision;
  delete current.metadata.revision;
  const { parseResources, toYaml } = await resourceCodecs();
  const original = toYaml(current);
  const dir = mkdtempSync(join(tmpdir(), 'gatectl-edit-'));
  const path = join(dir, `${kind}-${name}.yaml`);
  try {
    writeFileSync(path, original, { mode: 0o600 });
    for (;;) {
      await launchEditor(path);
      const edited = readFileSync(path, 'utf8');
      if (edited === original) {
        process.stdout.write(`${kind} "${name}" unchanged; nothing to do\n`);
        return;
      }
      try {
        const [resource, ...more] = parseResources(edited, registry);
        if (!resource || more.length > 0)
          throw new GatehouseError(ErrorCode.INVALID_RESOURCE, 'the file must hold exactly one resource');
        if (resource.kind !== kind || resource.metadata.name !== name) {
          throw new GatehouseError(
            ErrorCode.INVALID_RESOURCE,
            `kind and metadata.name cannot change while editing (${kind}/${name})`,
          );
        }
        const withRevision = { ...resource, metadata: { ...resource.metadata, revision } };
        await client.updateResource({ resourceJson: JSON.stringify(withRevision) });
        const what = registry.get(kind)?.singleton ? singletonWords(kind) : `${kind} "${name}"`;
        process.stdout.write(`${what} has been updated\n`);
        return;
      } catch (e) {
        const err = e as GatehouseError;
        process.stderr.write(`ERROR: ${err.message}\n`);
        if (err.code !== ErrorCode.INVALID_RESOURCE && err.code !== ErrorCode.UNKNOWN_KIND) throw e;
        if (!(await askYes('Edit again? [Y/n] '))) {
          throw new GatehouseError(ErrorCode.INVALID_RESOURCE, `${kind} "${name}" was not changed`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Kinds whose list (`gatectl get dbs`, `get apps`) is a table unless a format is asked for, like locks. */
const TABLE_LIST_KINDS = ['db', 'app'];

/** `gatectl get KIND[/NAME]`: one resource or all of a kind; locks, databases and apps list as a table. */
async function getResources(
  client: () => AuthClient,
  registry: KindRegistry,
  ref: string,
  format: string | undefined,
): Promise<void> {
  if (format === undefined && ['lock', 'locks'].includes(ref)) return printLocks(client());
  const { kind, name } = splitKindName(ref, registry);
  format ??= !name && TABLE_LIST_KINDS.includes(kind) ? 'text' : 'yaml';
  if (format !== 'yaml' && format !== 'json' && format !== 'text') {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `unknown format "${format}"; use yaml, json or text`);
  }
  const api = client();
  const { toJson, toText, toYaml } = await resourceCodecs();
  const resources: Resource[] = name
    ? [JSON.parse((await api.getResource({ kind, name })).resourceJson) as Resource]
    : (await api.listResources({ kind })).resourcesJson.map((j) => JSON.parse(j) as Resource);
  if (format === 'json') process.stdout.write(toJson(name ? resources[0]! : resources) + '\n');
  else if (format === 'text') process.stdout.write(toText(resources, registry) + '\n');
  else process.stdout.write(toYaml(resources));
}

/** KIND/NAME with a name (a singleton kind names its one resource), or a usage error. */
function namedRef(cmd: Command, registry: KindRegistry, example: string): { kind: string; name: string } {
  const parsed = splitKindName(cmd.processedArgs[0] as string, registry);
  if (!parsed.name) cmd.error(`name the resource as KIND/NAME (e.g. ${example})`);
  return { kind: parsed.kind, name: parsed.name };
}

async function removeResource(client: AuthClient, registry: KindRegistry, kind: string, name: string): Promise<void> {
  await client.deleteResource({ kind, name });
  if (registry.get(kind)?.singleton) {
    process.stdout.write(`${singletonWords(kind)} has been reset to the config file's settings\n`);
    return;
  }
  process.stdout.write(`${kind} "${name}" has been deleted\n`);
}

/** `loadRegistry` gives the resource kinds when a command runs (see resourceCodecs). */
export function registerResourceCommands(program: Command, loadRegistry: () => Promise<KindRegistry>): void {
  const client = (cmd: Command) => () => adminClient(adminTargetOf(cmd));

  const create = program
    .command('create')
    .summary('create resources from YAML (role, user, ...); --force replaces')
    .description(
      'Creates the resources of a YAML file (several documents separated by ---), all validated before\n' +
        'the first is sent. cluster_auth_preference is replaced without --force.',
    )
    .requiredOption('-f, --file <FILE>', 'the YAML file ("-" for standard input)')
    .option('--force', 'replace resources that already exist');
  addAdminTargetOptions(create);
  onAction(create, async (cmd) => {
    const o = cmd.opts<{ file: string; force?: boolean }>();
    return createResources(client(cmd)(), await loadRegistry(), o.file, o.force ?? false);
  });

  const get = program
    .command('get')
    .summary('print a resource, or all of a kind')
    .argument('<KIND[/NAME]>', 'e.g. role/access, roles, cap')
    .option('--format <yaml|json|text>', 'output format (default yaml; locks default to a table)');
  addAdminTargetOptions(get);
  onAction(get, async (cmd) =>
    getResources(
      client(cmd),
      await loadRegistry(),
      cmd.processedArgs[0] as string,
      cmd.opts<{ format?: string }>().format,
    ),
  );

  const edit = program
    .command('edit')
    .summary('edit a resource in $EDITOR; applied when you save')
    .description(
      'Edits a resource in $VISUAL or $EDITOR; applied when you save (cluster_auth_preference, alias cap: no NAME).',
    )
    .argument('<KIND/NAME>', 'e.g. role/access, cap');
  addAdminTargetOptions(edit);
  onAction(edit, async (cmd) => {
    const registry = await loadRegistry();
    const { kind, name } = namedRef(cmd, registry, 'gatectl edit role/access');
    return editResource(client(cmd)(), registry, kind, name);
  });

  const rm = program
    .command('rm')
    .summary("delete a resource (rm cap: back to the config file's settings)")
    .argument('<KIND/NAME>', 'e.g. role/dev, lock/NAME, cap');
  addAdminTargetOptions(rm);
  onAction(rm, async (cmd) => {
    const registry = await loadRegistry();
    const { kind, name } = namedRef(cmd, registry, 'gatectl rm role/dev');
    return removeResource(client(cmd)(), registry, kind, name);
  });
}
