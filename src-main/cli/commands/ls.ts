// `gate ls`: the nodes the current user may see.
import type { CommandContext } from '../context.ts';
import { formatTable, print } from '../io.ts';

export function labelsText(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** `gate ls`: the nodes as a table, or as JSON with --format json. */
export async function ls(ctx: CommandContext, values: { format: 'text' | 'json' }): Promise<number> {
  const profile = ctx.core.requireValidProfile();
  const cluster = await ctx.core.cluster(profile.proxy);
  try {
    const nodes = await cluster.listNodes(profile);
    if (values.format === 'json') {
      print(ctx.io, JSON.stringify(nodes, null, 2));
    } else {
      print(
        ctx.io,
        formatTable(
          ['Node Name', 'Address', 'Labels'],
          nodes.map((n) => [n.name, n.address, labelsText(n.labels)]),
        ),
      );
    }
  } finally {
    cluster.close();
  }
  return 0;
}
