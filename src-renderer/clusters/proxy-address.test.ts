import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeProxyAddress } from './proxy-address.ts';

const address = (raw: string) => {
  const r = normalizeProxyAddress(raw);
  assert.ok(r.ok, `expected "${raw}" to be accepted, got ${JSON.stringify(r)}`);
  return r.address;
};
const problem = (raw: string) => {
  const r = normalizeProxyAddress(raw);
  assert.ok(!r.ok, `expected "${raw}" to be refused`);
  return r.problem;
};

test('host and host:port pass through, trimmed', () => {
  assert.equal(address('proxy.example.com'), 'proxy.example.com');
  assert.equal(address('  127.0.0.1:3080 \n'), '127.0.0.1:3080');
  assert.equal(address('[::1]:3080'), '[::1]:3080');
});

test('a pasted https URL is cut down to host:port', () => {
  assert.equal(address('https://proxy.example.com:3080/'), 'proxy.example.com:3080');
  assert.equal(address('HTTP://proxy.example.com'), 'proxy.example.com');
});

test('what main would refuse is explained here', () => {
  assert.match(problem(''), /Enter the proxy address/);
  assert.match(problem('ssh://host:22'), /not a ssh:\/\/ address/);
  assert.match(problem('proxy.example.com/web'), /without a path/);
  assert.match(problem('proxy example.com'), /spaces/);
  assert.match(problem('proxy:'), /port .* missing/);
  assert.match(problem('proxy:99999'), /1 to 65535/);
  assert.match(problem(':3080'), /host name/);
  assert.match(problem(`${'a'.repeat(301)}`), /too long/);
});
