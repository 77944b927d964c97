import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
// @ts-expect-error -- a plain .mjs build script without type declarations
import { nodeMismatch, wantedNodeMajor } from './require-node.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

test('the pinned Node, engines and @types/node name the same LTS major', () => {
  const wanted = wantedNodeMajor() as { pinned: string; major: number };
  assert.match(wanted.pinned, /^\d+\.\d+\.\d+$/);
  assert.equal(wanted.major % 2, 0, 'an LTS line is an even major');
  assert.match(pkg.engines.node, new RegExp(`^\\^${wanted.major}\\.`));
  assert.match(pkg.devDependencies['@types/node'] ?? '', new RegExp(`^\\^${wanted.major}\\.`));
});

test('the tests themselves run on that Node (so native modules are built for it)', () => {
  assert.equal(nodeMismatch(process.versions.node, wantedNodeMajor()), undefined);
});

test('another major gets the message that says what to run', () => {
  const message = nodeMismatch('20.20.2', { pinned: '24.22.3', major: 24 }) as string;
  assert.match(message, /runs on Node 24 LTS/);
  assert.match(message, /this is Node 20\.20\.2/);
  assert.match(message, /\. scripts\/node-lts\.sh/);
  assert.equal(nodeMismatch('24.1.0', { pinned: '24.22.3', major: 24 }), undefined);
});
