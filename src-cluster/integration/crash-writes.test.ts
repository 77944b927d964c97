// Fault test (issue 11, finding 14): kill -9 the real daemon while admins create users and
// devices (plain, and with their enroll token as `gatectl devices add --enroll` does), restart it
// over the same SQLite file, and check that no record was half-written. Before the fix a user
// could exist without its password or password-set token: it could neither log in nor be added
// again ("already exists").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ClusterProcess } from '../../test-support/cluster-process.ts';
import { adminClient, type AuthClient } from '../cli/admin-client.ts';
import { SqliteBackend } from '../storage/sqlite.ts';
import { claimKey } from '../devicetrust/asset-tag-claims.ts';

/** Bounded: each round runs the loop, kills the daemon mid-loop and restarts it. */
const KILLS = 5;
const WORKERS = 4;
const PASSWORD = 'crash-test-password-1';

type Kind = 'password' | 'token' | 'device' | 'enroll';
interface Attempt {
  kind: Kind;
  name: string;
}

function userJson(name: string): string {
  return JSON.stringify({
    kind: 'user',
    version: 'v2',
    metadata: { name },
    spec: { roles: ['crash'], traits: { logins: ['x'] } },
  });
}

function deviceJson(tag: string): string {
  return JSON.stringify({ kind: 'device', version: 'v1', metadata: {}, spec: { asset_tag: tag, os_type: 'linux' } });
}

async function attempt(client: AuthClient, a: Attempt): Promise<void> {
  if (a.kind === 'device') await client.createResource({ resourceJson: deviceJson(a.name), upsert: false });
  else if (a.kind === 'enroll')
    await client.createDeviceEnrollToken({ assetTag: a.name, addWithOs: 'linux', deviceId: '' });
  else await client.createUser({ userJson: userJson(a.name), password: a.kind === 'password' ? PASSWORD : '' });
}

/** Runs create calls from WORKERS loops until the daemon is killed; returns the calls in flight then. */
async function loopUntilKilled(cluster: ClusterProcess, round: number, attempts: Attempt[]): Promise<number> {
  const client = adminClient({ dataDir: cluster.dataDir });
  const kinds: Kind[] = ['password', 'token', 'device', 'enroll'];
  let killed = false;
  let inFlight = 0;
  let done = 0;
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !killed; i++) {
      const a: Attempt = { kind: kinds[(i + w) % kinds.length]!, name: `r${round}-w${w}-${i}` };
      attempts.push(a);
      inFlight++;
      await attempt(client, a).then(
        () => done++,
        () => undefined,
      );
      inFlight--;
    }
  };
  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
  // Kill at a different point of the loop each round, once some creates went through.
  while (done < 3 + round * 2) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 400)));
  const hit = inFlight;
  killed = true;
  await cluster.crash();
  await Promise.all(workers);
  return hit;
}

async function checkNoHalfWrites(
  dbPath: string,
  attempts: Attempt[],
): Promise<{ users: number; devices: number; events: number }> {
  const db = await SqliteBackend.open({ path: dbPath });
  try {
    const keys = new Set((await db.listPrefix('/')).map((i) => i.key));
    const tokensFor = new Set(
      (await db.listPrefix('/password_tokens/')).map((i) => (JSON.parse(i.value) as { user: string }).user),
    );
    let users = 0;
    let devices = 0;
    for (const a of attempts.filter((x) => x.kind === 'password' || x.kind === 'token')) {
      if (!keys.has(`/users/${a.name}`)) continue;
      users++;
      if (a.kind === 'password') assert.ok(keys.has(`/credentials/${a.name}`), `user ${a.name} has no credentials`);
      else assert.ok(tokensFor.has(a.name), `user ${a.name} has no password-set token`);
    }
    const byTag = new Map<string, string>();
    for (const item of await db.listPrefix('/devices/')) {
      const d = JSON.parse(item.value) as { metadata: { name: string }; spec: { asset_tag: string } };
      byTag.set(d.spec.asset_tag, d.metadata.name);
    }
    const tokenFor = new Set(
      (await db.listPrefix('/device_tokens/')).map((i) => (JSON.parse(i.value) as { device_id: string }).device_id),
    );
    for (const a of attempts.filter((x) => x.kind === 'device' || x.kind === 'enroll')) {
      const claim = await db.get(claimKey('linux', a.name));
      const id = byTag.get(a.name);
      if (id) devices++;
      assert.equal(claim?.value, id, `device ${a.name}: claim ${claim?.value} but device ${id}`);
      if (id && a.kind === 'enroll')
        assert.ok(tokenFor.has(id), `device ${a.name} was added with --enroll but has no token`);
    }
    const events = await db.listPrefix('/audit/events/');
    for (const item of events) {
      const suffix = item.key.slice('/audit/events/'.length);
      const e = JSON.parse(item.value) as { type: string; user: string };
      assert.ok(keys.has(`/audit/by_type/${e.type}/${suffix}`), `audit event ${suffix} lacks its type index`);
      if (e.user)
        assert.ok(keys.has(`/audit/by_user/${encodeURIComponent(e.user)}/${suffix}`), `${suffix} lacks its user index`);
    }
    for (const key of keys) {
      const m = /^\/audit\/by_(?:type|user)\/[^/]+\/(.+)$/.exec(key);
      if (m) assert.ok(keys.has(`/audit/events/${m[1]}`), `index ${key} points at no event`);
    }
    return { users, devices, events: events.length };
  } finally {
    await db.close();
  }
}

test(
  'kill -9 during create loops leaves no half-written user, device or audit event',
  { timeout: 240_000 },
  async (t) => {
    const cluster = new ClusterProcess();
    t.after(() => cluster.destroy());
    await cluster.start();
    cluster.apply('kind: role\nversion: v7\nmetadata:\n  name: crash\nspec:\n  allow:\n    logins: [x]\n');
    const attempts: Attempt[] = [];
    const hits: number[] = [];
    for (let round = 0; round < KILLS; round++) {
      hits.push(await loopUntilKilled(cluster, round, attempts));
      await cluster.start();
    }
    await cluster.stop();
    const found = await checkNoHalfWrites(join(cluster.dataDir, 'gatehouse.db'), attempts);
    t.diagnostic(
      `${attempts.length} creates tried, in flight at the ${KILLS} kills: ${hits.join(',')}; ` +
        `stored: ${found.users} users, ${found.devices} devices, ${found.events} audit events`,
    );
    assert.ok(
      hits.some((h) => h > 0),
      'no kill landed while creates were in flight; the test proved nothing',
    );

    // Whatever is missing was never half-written, so it can be added again.
    await cluster.start();
    const client = adminClient({ dataDir: cluster.dataDir });
    const db = await SqliteBackend.open({ path: join(cluster.dataDir, 'gatehouse.db') });
    t.after(() => db.close());
    let readded = 0;
    for (const a of attempts) {
      const isDevice = a.kind === 'device' || a.kind === 'enroll';
      const exists = isDevice ? await db.get(claimKey('linux', a.name)) : await db.get(`/users/${a.name}`);
      if (exists) continue;
      await attempt(client, a);
      readded++;
    }
    t.diagnostic(`${readded} missing users/devices added again without "already exists"`);
    assert.ok(readded > 0, 'every kill left nothing to re-add; expected at least the in-flight creates');
  },
);
