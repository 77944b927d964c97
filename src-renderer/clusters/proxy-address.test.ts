import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CLUSTER_PROXIES, normalizeProxyAddress, normalizeProxyList } from './proxy-address.ts';

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

test('a list of proxies: each normalized, repeats dropped, every bad one named, bounded', () => {
  assert.deepEqual(normalizeProxyList(' a:3080 ,https://b.example/, a:3080,'), {
    ok: true,
    addresses: ['a:3080', 'b.example'],
  });
  assert.deepEqual(normalizeProxyList('solo:3080'), { ok: true, addresses: ['solo:3080'] });
  const bad = normalizeProxyList('a:3080, b:0, ftp://c');
  assert.ok(!bad.ok);
  assert.equal(
    bad.problem,
    "“b:0”: The port must be a number from 1 to 65535. “ftp://c”: Use the proxy's host and port, not a ftp:// address.",
  );
  assert.ok(!normalizeProxyList(' , ').ok);
  const many = Array.from({ length: MAX_CLUSTER_PROXIES + 1 }, (_, i) => `p${i}:3080`).join(',');
  const tooMany = normalizeProxyList(many);
  assert.ok(!tooMany.ok && /at most 8/.test(tooMany.problem));
});
