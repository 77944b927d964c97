// `gate ls`: the nodes the current user may see.
import { parseCommandArgs, showHelp, type Command, type CommandContext } from '../context.ts';
import { formatTable, print } from '../io.ts';

export function labelsText(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

export const lsCommand: Command = {
  name: 'ls',
  usage: `Usage: gate ls [--format text|json]

Lists the nodes your roles let you see: name, address and labels.

Options:
  --format text|json   output format (default text)
`,
  async run(ctx: CommandContext) {
    const { values } = parseCommandArgs(this, ctx.args, { format: { type: 'string', default: 'text' } });
    if (values.help) return showHelp(ctx, this);
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
  },
};
