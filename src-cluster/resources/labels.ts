// Label selectors as written in roles (`node_labels`), compiled once per role set so that
// listing thousands of nodes does not rebuild regular expressions per node.
//
// Semantics:
//   - no selector, or an empty one, matches nothing (a role must say which nodes it grants);
//   - `'*': '*'` matches every node, even one without labels;
//   - otherwise every key must be present on the node (AND across keys) and its value must
//     match one of the listed values (OR within a list); `'*'` as a value matches any value of
//     that key, and `*` inside a value is a glob (`prod-*`).

export type LabelSelector = Record<string, string | readonly string[]>;
export type NodeLabels = Readonly<Record<string, string>>;
export type LabelMatcher = (labels: NodeLabels) => boolean;

const matchNothing: LabelMatcher = () => false;
const matchEverything: LabelMatcher = () => true;

export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

function compileValue(value: string): (v: string) => boolean {
  if (value === '*') return () => true;
  if (!value.includes('*')) return (v) => v === value;
  const re = globToRegExp(value);
  return (v) => re.test(v);
}

export function compileSelector(selector: LabelSelector | undefined): LabelMatcher {
  if (!selector) return matchNothing;
  const entries = Object.entries(selector);
  if (entries.length === 0) return matchNothing;
  const wildcard = selector['*'];
  if (wildcard === '*' || (Array.isArray(wildcard) && wildcard.includes('*'))) return matchEverything;

  const checks = entries.map(([key, raw]) => {
    const values: readonly string[] = typeof raw === 'string' ? [raw] : raw;
    const tests = values.map(compileValue);
    return (labels: NodeLabels) => {
      if (!Object.hasOwn(labels, key)) return false;
      const actual = labels[key]!;
      return tests.some((t) => t(actual));
    };
  });
  return (labels) => checks.every((check) => check(labels));
}

export function matchLabels(selector: LabelSelector | undefined, labels: NodeLabels): boolean {
  return compileSelector(selector)(labels);
}
