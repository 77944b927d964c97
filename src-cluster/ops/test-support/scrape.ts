// Test-only: reading a process's diagnostics listener as a scraper or a probe would, over real HTTP.
// A fresh connection per request: the tests block their event loop in spawnSync (gatectl, gate),
// and a pooled keep-alive socket the server closed meanwhile fails the next request on it.
import { get } from 'node:http';

const REQUEST_TIMEOUT_MS = 10_000;

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

export interface Probed {
  status: number;
  json: { status: string; failing: string[]; checks: { name: string; ok: boolean; error?: string }[] };
}

/** GET /healthz or /readyz. */
export async function probe(addr: string, path: '/healthz' | '/readyz'): Promise<Probed> {
  const res = await httpGet(`http://${addr}${path}`);
  return { status: res.status, json: JSON.parse(res.body) as Probed['json'] };
}

/** GET /metrics as text. */
export async function scrapeText(addr: string): Promise<string> {
  const res = await httpGet(`http://${addr}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.body;
}

/**
 * The value of one series in exposition text, e.g. metricValue(text, 'gatehouse_logins_total',
 * { result: 'success' }); undefined when the series is absent. Labels must match exactly.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    const want = Object.entries(labels);
    if (want.length === Object.keys(got).length && want.every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** metricValue that must exist. */
export async function scrapeValue(addr: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await scrapeText(addr);
  const v = metricValue(text, name, labels);
  if (v === undefined)
    throw new Error(`no series ${name}${JSON.stringify(labels)} in /metrics:\n${text.slice(0, 2000)}`);
  return v;
}
