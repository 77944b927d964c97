import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InProcessNode } from '../proxy/proxy.ts';
import { inProcessNodeFor, type InProcessNodes } from './in-process-nodes.ts';

const local: InProcessNode = { acceptFromProxy: (stream) => stream.destroy() };
const nodes: InProcessNodes = new Map([['web-1', { address: '127.0.0.1:3022', node: local }]]);

test('the node of this process is taken when name and registered address both match', () => {
  assert.equal(inProcessNodeFor(nodes, { name: 'web-1', address: '127.0.0.1:3022' }), local);
});

test('a same-named node registered at another address is dialed, not taken', () => {
  assert.equal(inProcessNodeFor(nodes, { name: 'web-1', address: '10.0.0.7:3022' }), undefined);
});

test('another node, or a daemon without a node, is dialed', () => {
  assert.equal(inProcessNodeFor(nodes, { name: 'web-2', address: '127.0.0.1:3022' }), undefined);
  assert.equal(inProcessNodeFor(undefined, { name: 'web-1', address: '127.0.0.1:3022' }), undefined);
  assert.equal(inProcessNodeFor(new Map(), { name: 'web-1', address: '127.0.0.1:3022' }), undefined);
});
