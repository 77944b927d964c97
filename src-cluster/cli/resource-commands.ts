// `gatectl create -f` and `gatectl edit`: YAML in, validated locally first (so errors point at
// the line in *your* file), then sent; the server validates again and is the authority.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { parseResources, toYaml, type KindRegistry, type Resource } from '../resources/index.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { AuthClient } from './admin-client.ts';
import { singletonWords } from './cli-util.ts';

const KIND_WORDS: Record<string, string> = { role: 'role', user: 'user' };

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

function launchEditor(path: string): void {
  const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
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
  const original = toYaml(current);
  const dir = mkdtempSync(join(tmpdir(), 'gatectl-edit-'));
  const path = join(dir, `${kind}-${name}.yaml`);
  try {
    writeFileSync(path, original, { mode: 0o600 });
    for (;;) {
      launchEditor(path);
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
