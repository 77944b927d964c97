// npm run bench:audit — audit log queries over a real SQLite file holding 100k events.
//   setup:     100k events written through AuditLog.emit (the daemon's path) with a clock spread
//              over 30 days: 16 types with realistic skew (sessions and logins common, device
//              deletes rare), 200 users; not timed beyond the total
//   queries:   one 100-event page, p50/p95 over RUNS runs each, at random points in time:
//              by time (newest first and oldest first), by type (common and rare), by user,
//              by user + type, and the next page through a cursor
//   baseline:  in the same run, the Backend's own listRange of 100 event keys (what one page
//              costs at the storage layer without the audit log's indexes and windows)
// Prints figures, ratios to the baseline and the goal (< 100 ms). Not a test: asserts nothing.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteBackend } from '../src-cluster/storage/sqlite.ts';
import { AuditLog, type AuditQuery } from '../src-cluster/audit/audit-log.ts';
import type { AuditEventType } from '../src-cluster/audit/audit-events.ts';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 100_000);
const RUNS = Number(process.env.BENCH_AUDIT_RUNS ?? 200);
const PAGE = 100;
const GOAL_MS = 100;
const SPAN_MS = 30 * 24 * 3600_000;
const START = Date.parse('2026-01-01T00:00:00.000Z');

// Weights roughly like a busy cluster: most events are sessions, logins and certificates.
const MIX: [AuditEventType, number][] = [
  ['session.start', 25],
  ['session.end', 25],
  ['user.login', 15],
  ['cert.create', 15],
  ['device.authenticate', 8],
  ['access.denied', 4],
  ['resource.update', 2],
  ['resource.create', 1],
  ['device.token.create', 1],
  ['device.enroll', 1],
  ['device.create', 1],
  ['device.update', 0.5],
  ['lock.create', 0.5],
  ['lock.delete', 0.4],
  ['resource.delete', 0.3],
  ['device.delete', 0.3],
];
const TOTAL_WEIGHT = MIX.reduce((s, [, w]) => s + w, 0);

// A seeded generator, so runs are comparable.
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x80000000;
};
const pickType = (): AuditEventType => {
  let r = random() * TOTAL_WEIGHT;
  for (const [type, w] of MIX) if ((r -= w) < 0) return type;
  return MIX[0]![0];
};

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

async function timed(run: () => Promise<number>): Promise<{ times: number[]; counts: number[] }> {
  const times: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    counts.push(await run());
    times.push(performance.now() - t0);
  }
  return { times, counts };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-audit-'));
  const path = join(dir, 'gatehouse.db');
  try {
    let now = START;
    const backend = await SqliteBackend.open({ path });
    const log = new AuditLog(backend, { now: () => now });
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      now = START + Math.floor((i / EVENTS) * SPAN_MS + random() * 1000);
      const type = pickType();
      await log.emit({
        type,
        success: random() > 0.1,
        user: `user${Math.floor(random() * 200)}`,
        message: type === 'access.denied' ? 'unauthorized device' : '',
        fields: {
          login: 'ubuntu',
          node: `node${Math.floor(random() * 20)}`,
          client_address: `10.0.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}`,
          session_id: crypto.randomUUID(),
          trusted_device: { device_id: crypto.randomUUID(), asset_tag: 'C02XYZ', credential_id: 'abc123' },
        },
      });
    }
    const fillMs = performance.now() - t0;
    await backend.close();

    // A fresh process view of the file, like a daemon after a restart.
    const reopened = await SqliteBackend.open({ path });
    const audit = new AuditLog(reopened, { now: () => START + SPAN_MS + 60_000 });
    const randomTime = () => new Date(START + Math.floor(random() * SPAN_MS));
    const page = (q: () => AuditQuery) => async () => (await audit.search({ limit: PAGE, ...q() })).events.length;
    const baseline = await timed(async () => {
      const from = `/audit/events/${randomTime().toISOString()}`;
      return (await reopened.listRange(from, '/audit/events0', PAGE)).length;
    });
    const cases: [string, () => Promise<number>][] = [
      ['by time, newest first (until random)', page(() => ({ until: randomTime() }))],
      ['by time, oldest first (since random)', page(() => ({ since: randomTime(), order: 'asc' }))],
      ['by type session.start (25%)', page(() => ({ type: 'session.start', until: randomTime() }))],
      ['by type device.delete (0.3%)', page(() => ({ type: 'device.delete', until: randomTime() }))],
      ['by user (1 of 200)', page(() => ({ user: `user${Math.floor(random() * 200)}`, until: randomTime() }))],
      [
        'by user + type access.denied',
        page(() => ({ user: `user${Math.floor(random() * 200)}`, type: 'access.denied', until: randomTime() })),
      ],
      [
        'next page via cursor (by type)',
        async () => {
          const first = await audit.search({ limit: PAGE, type: 'user.login', until: randomTime() });
          const t = performance.now();
          const next = await audit.search({ limit: PAGE, type: 'user.login', cursor: first.nextCursor });
          cursorOnly.push(performance.now() - t);
          return next.events.length;
        },
      ],
    ];
    const cursorOnly: number[] = [];
    const size = statSync(path).size + (statSync(path + '-wal', { throwIfNoEntry: false })?.size ?? 0);
    console.log(
      `audit log: ${EVENTS} events written through AuditLog.emit in ${(fillMs / 1000).toFixed(1)} s ` +
        `(${((fillMs * 1000) / EVENTS).toFixed(0)} µs/event, 3 keys each); database ${(size / 1e6).toFixed(0)} MB`,
    );
    console.log(`query of one ${PAGE}-event page, ${RUNS} runs each, goal < ${GOAL_MS} ms\n`);
    const b50 = pct(baseline.times, 50);
    const b95 = pct(baseline.times, 95);
    const row = (label: string, times: number[], counts?: number[]) => {
      const p50 = pct(times, 50);
      const p95 = pct(times, 95);
      const avg = counts ? (counts.reduce((s, c) => s + c, 0) / counts.length).toFixed(0) : '';
      console.log(
        `${label.padEnd(46)} p50 ${ms(p50).padStart(9)}  p95 ${ms(p95).padStart(9)}  ` +
          `×baseline p50 ${(p50 / b50).toFixed(1).padStart(5)}  p95 ${(p95 / b95).toFixed(1).padStart(5)}` +
          (avg ? `  events/page ${avg.padStart(3)}` : '') +
          (label.startsWith('baseline') ? '' : p95 < GOAL_MS ? '  goal met' : '  GOAL MISSED'),
      );
    };
    row('baseline: Backend.listRange(100 keys)', baseline.times, baseline.counts);
    for (const [label, run] of cases) {
      const r = await timed(run);
      if (label.startsWith('next page')) {
        row(`${label} (2nd page only)`, cursorOnly, r.counts);
      } else {
        row(label, r.times, r.counts);
      }
    }
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
