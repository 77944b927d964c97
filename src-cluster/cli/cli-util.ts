// Small helpers the admin CLI shares: stdin, tables, KIND/NAME references.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { KindRegistry } from '../resources/index.ts';

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      '--password-stdin expects the password on standard input, not a terminal',
    );
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Columns padded to their widest cell, two spaces apart, the last column unpadded, trailing
 * blanks trimmed. Plain loops and one string built row by row: `gatectl devices ls` formats
 * 10,000 rows in a process that exits right after, so this runs once, unoptimised by the JIT
 * (spreading 10,000 lengths into Math.max and map/join per row cost ~65 ms there, this ~10 ms).
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h) => h.length);
  for (const row of rows) {
    for (let i = 0; i < widths.length; i++) {
      const length = (row[i] ?? '').length;
      if (length > widths[i]!) widths[i] = length;
    }
  }
  const last = headers.length - 1;
  const line = (cells: string[]): string => {
    let text = '';
    for (let i = 0; i < last; i++) text += (cells[i] ?? '').padEnd(widths[i]!) + '  ';
    return (text + (cells[last] ?? '')).trimEnd() + '\n';
  };
  let out = line(headers) + line(widths.map((w) => '-'.repeat(w)));
  for (const row of rows) out += line(row);
  return out;
}

export function printTable(headers: string[], rows: string[][]): void {
  process.stdout.write(formatTable(headers, rows));
}

/**
 * "role/dev", "roles", "users/alice" → canonical kind and optional name. A singleton kind
 * (cluster_auth_preference) always names its one resource, so `gatectl edit cap` needs no NAME.
 */
export function splitKindName(ref: string, registry: KindRegistry): { kind: string; name?: string } {
  const [kindPart, ...rest] = ref.split('/');
  const def = registry.require(kindPart!);
  const name = rest.join('/') || def.singleton;
  return name === undefined ? { kind: def.kind } : { kind: def.kind, name };
}

/** How messages name a singleton: `cluster_auth_preference` → "cluster auth preference". */
export function singletonWords(kind: string): string {
  return kind.replace(/_/g, ' ');
}
