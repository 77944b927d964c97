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

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
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
