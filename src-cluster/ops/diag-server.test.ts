// The diagnostics listener over real HTTP on loopback: the three routes, 200/503 with the failing
// checks named, a hung probe bounded by its time-out, and the request limits (one method, no body).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createMemoryLogger } from '../log/logger.ts';
import { DiagServer } from './diag-server.ts';
import { ProcessHealth } from './health.ts';
import { ProcessMetrics } from './metrics.ts';
import { probe, scrapeText, metricValue } from './test-support/scrape.ts';

async function serve(t: import('node:test').TestContext, health = new ProcessHealth()) {
  const metrics = new ProcessMetrics('9.9.9');
  const server = new DiagServer({ listenAddr: '127.0.0.1:0', health, metrics, log: createMemoryLogger('warn') });
  const addr = await server.start();
  t.after(() => server.close());
  return { addr, health, metrics };
}

function raw(addr: string, method: string, path: string, body?: string): Promise<number> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-length': Buffer.byteLength(body) };
    const req = request({ host, port: Number(port), method, path, headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('healthz and readyz: 200 when every check passes, 503 naming the failing ones', async (t) => {
  const { addr, health } = await serve(t);
  let backendUp = true;
  health.addReadiness('auth_backend', () => {
    if (!backendUp) throw new Error('database is closed');
  });
  assert.equal((await probe(addr, '/readyz')).status, 200);
  backendUp = false;
  const ready = await probe(addr, '/readyz');
  assert.equal(ready.status, 503);
  assert.deepEqual(ready.json.failing, ['auth_backend']);
  assert.equal(ready.json.checks.find((c) => c.name === 'auth_backend')?.error, 'database is closed');
  assert.equal((await probe(addr, '/healthz')).status, 200, 'readiness failures do not fail liveness');
  health.shuttingDown();
  const live = await probe(addr, '/healthz');
  assert.equal(live.status, 503);
  assert.deepEqual(live.json.failing, ['process']);
});

test('a probe that hangs fails with its time-out instead of hanging the request', async (t) => {
  const { addr, health } = await serve(t, new ProcessHealth(50));
  health.addReadiness('hung', () => new Promise<void>(() => {}));
  const ready = await probe(addr, '/readyz');
  assert.equal(ready.status, 503);
  assert.match(ready.json.checks.find((c) => c.name === 'hung')!.error!, /timed out after 50 ms/);
});

test('/metrics serves this registry in the Prometheus text format', async (t) => {
  const { addr, metrics } = await serve(t);
  metrics.logins.inc({ result: 'success' });
  const text = await scrapeText(addr);
  assert.equal(metricValue(text, 'gatehouse_logins_total', { result: 'success' }), 1);
  assert.equal(metricValue(text, 'gatehouse_build_info', { version: '9.9.9' }), 1);
  assert.ok(metricValue(text, 'process_resident_memory_bytes') !== undefined, 'default metrics in this registry');
});

test('only GET without a body; unknown paths are 404', async (t) => {
  const { addr } = await serve(t);
  assert.equal(await raw(addr, 'POST', '/metrics', 'x'), 405);
  assert.equal(await raw(addr, 'DELETE', '/healthz'), 405);
  assert.equal(await raw(addr, 'GET', '/healthz', 'a body'), 413);
  assert.equal(await raw(addr, 'GET', '/'), 404);
  assert.equal(await raw(addr, 'GET', '/healthz?verbose=1'), 200);
});

test('a listen address in use is a CONFIG error naming the setting', async (t) => {
  const { addr } = await serve(t);
  const second = new DiagServer({
    listenAddr: addr,
    health: new ProcessHealth(),
    metrics: new ProcessMetrics('x', { defaultMetrics: false }),
    log: createMemoryLogger('warn'),
  });
  await assert.rejects(second.start(), /diagnostics listener .*EADDRINUSE.*--diag-addr/);
});

test('health checks: names are unique and their number is bounded', () => {
  const health = new ProcessHealth();
  assert.throws(() => health.addReadiness('process', () => {}), /registered twice/);
  for (let i = 1; i < 32; i++) health.addReadiness(`c${i}`, () => {});
  assert.throws(() => health.addReadiness('one-too-many', () => {}), /at most 32/);
});
