// Issue 17 on the HA topology (auth A and auth B as separate processes on one PostgreSQL 15, proxy 1
// in front of A, proxy 2 in front of B): what only two auth servers on one database can show.
//
// "No duplicate enrollment from two concurrent ceremonies on two auth servers", end to end: one
// device — one swtpm state, so one EK and, with the AK blob shared, one attestation credential —
// runs `gate device enroll` through proxy 1 and proxy 2 at the same moment, each with its own fresh
// enroll token, ROUNDS times. Two swtpm processes serve the one state (a swtpm serves one client at
// a time; the clone is the same TPM to everyone). Each round: exactly one ceremony enrolls, the
// other is refused with ALREADY_EXISTS and a message that says why, exactly one device record holds
// the credential, a device added through auth B meanwhile is there, and the audit log holds one
// success and one refusal per device.
//
// Last, as it kills the node: `gate ssh` whose node dies mid-command exits 255 and says that the
// connection ended before the remote command reported its exit status (stderr was empty before).
//
// Watcher lag (issue 17 item 5): a change made through auth A is counted in auth B's /metrics as
// a delivery of another process's write, timed from the commit time the change feed carries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { startStoragePostgres, type StoragePostgres } from '../../test-support/databases/storage-postgres.ts';
import { HaCluster } from '../../test-support/ha-cluster.ts';
import { startSwtpm, type Swtpm } from '../../test-support/swtpm.ts';
import { scrapeValue } from '../ops/test-support/scrape.ts';
import { gatectlAsync, until } from './ha-load.ts';

const ROUNDS = 3;
/** A ceremony that has not ended by then hangs: a guard, not a timing assertion. */
const CEREMONY_DEADLINE_MS = 120_000;
/** gate's exit code for ALREADY_EXISTS (the one table in src-shared/errors.ts). */
const EXIT_ALREADY_EXISTS = 6;
const PASSWORD = 'pw-enroller-1f3a9c';
const LOGIN = userInfo().username;
const NODE = 'ha-enroll-node';

type Home = 'dev-a' | 'dev-b';
interface DeviceRecord {
  metadata: { name: string };
  spec: { asset_tag: string; enroll_status: string; credential?: { id: string } };
}
interface Ceremony {
  home: Home;
  code: number;
  out: string;
}

describe('HA: two auth servers on one PostgreSQL — one enrollment per device, watcher lag across servers', () => {
  let pg: StoragePostgres | undefined;
  let cluster: HaCluster;
  const tpms = new Map<Home, Swtpm>();

  before(async () => {
    pg = await startStoragePostgres();
    cluster = new HaCluster({
      clusterName: 'ha-enroll',
      nodeName: NODE,
      storageUrl: pg.freshDatabase('enr'),
      diagnostics: true,
    });
    await cluster.start();
    const tpm = await startSwtpm();
    tpms.set('dev-a', tpm);
    tpms.set('dev-b', await startSwtpm({ cloneOf: tpm }));
    mustSucceed(
      cluster.gatectl(
        ['users', 'add', 'enroller', '--roles=access', `--logins=${LOGIN}`, '--password-stdin'],
        'authA',
        `${PASSWORD}\n`,
      ),
      'users add',
    );
  });

  after(async () => {
    await cluster?.destroy();
    await pg?.stop();
    for (const tpm of tpms.values()) await tpm.stop();
  });

  function mustSucceed(r: { status: number; stdout: string; stderr: string }, what: string): string {
    assert.equal(r.status, 0, `${what} failed:\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /**
   * A fresh login in each home: a ceremony ends by device-authenticating the login it ran in, which
   * a login already made device-trusted by an earlier round refuses.
   */
  function logIn(): void {
    const via: Record<Home, 'proxy1' | 'proxy2'> = { 'dev-a': 'proxy1', 'dev-b': 'proxy2' };
    for (const home of ['dev-a', 'dev-b'] as const) {
      const proxy = cluster.addr.get(via[home])!;
      const login = ['login', '--proxy', proxy, '--ca-pin', cluster.caPin, '--user', 'enroller', '--password-stdin'];
      mustSucceed(cluster.gate(home, login, `${PASSWORD}\n`), `gate login (${home})`);
    }
  }

  function enroll(home: Home, token: string): Promise<Ceremony> {
    return new Promise((resolve, reject) => {
      const env = { ...cluster.gateEnv(home), GATEHOUSE_TPM_TCTI: tpms.get(home)!.tcti };
      const child = spawn(process.execPath, cluster.gateArgv(['device', 'enroll', '--token-stdin']), { env });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const guard = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`gate device enroll (${home}) still running after ${CEREMONY_DEADLINE_MS} ms:\n${out}`));
      }, CEREMONY_DEADLINE_MS);
      child.stdin.end(`${token}\n`);
      child.once('exit', (code) => {
        clearTimeout(guard);
        resolve({ home, code: code ?? -1, out });
      });
    });
  }

  function tokenIn(out: string): string {
    const token = /^ {2}([0-9a-f]{20,})$/m.exec(out)?.[1];
    assert.ok(token, `no enroll token printed:\n${out}`);
    return token;
  }

  /** Every device record (`gatectl get devices --format json`), read through `via`. */
  function deviceRecords(via: 'authA' | 'authB'): DeviceRecord[] {
    const out = mustSucceed(cluster.gatectl(['get', 'devices', '--format', 'json'], via), 'get devices');
    const parsed = JSON.parse(out) as DeviceRecord[] | { items?: DeviceRecord[] } | DeviceRecord;
    if (Array.isArray(parsed)) return parsed;
    return 'items' in parsed && Array.isArray(parsed.items) ? parsed.items : [parsed as DeviceRecord];
  }

  function enrollEvents(deviceId: string): { successes: number; refusals: string[] } {
    const args = ['audit', '--type', 'device.enroll', '--limit', '10000', '--format', 'json'];
    const lines = mustSucceed(cluster.gatectl(args, 'authB'), 'audit').split('\n').filter(Boolean);
    const mine = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => JSON.stringify(e).includes(deviceId));
    return {
      successes: mine.filter((e) => e['success'] === true).length,
      refusals: mine.filter((e) => e['success'] === false).map((e) => JSON.stringify(e)),
    };
  }

  test(`${ROUNDS} rounds, fresh tokens through auth A and auth B: one enrollment per device, the other refused`, async () => {
    logIn();
    const assetTag = mustSucceed(cluster.gate('dev-a', ['device', 'asset-tag']), 'asset-tag').trim();
    // The AK is made by the first ceremony and kept in the device home; the clone gets the same
    // blob, which loads under its (identical) storage key: one credential on both TPMs.
    const probe = await enroll('dev-a', 'ab'.repeat(16));
    assert.notEqual(probe.code, 0, `an unknown token is refused:\n${probe.out}`);
    const akBlob = join(cluster.dir, 'dev-a', 'device', 'tpm-ak.json');
    assert.ok(existsSync(akBlob), `the first ceremony left its AK blob at ${akBlob}:\n${probe.out}`);
    mkdirSync(join(cluster.dir, 'dev-b', 'device'), { recursive: true });
    copyFileSync(akBlob, join(cluster.dir, 'dev-b', 'device', 'tpm-ak.json'));

    const bystanders: string[] = [];
    let credentialId = '';
    for (let round = 1; round <= ROUNDS; round++) {
      logIn();
      const added = mustSucceed(
        cluster.gatectl(['devices', 'add', '--asset-tag', assetTag, '--os', 'linux', '--enroll'], 'authA'),
        'devices add --enroll',
      );
      const deviceId = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(added)?.[1];
      assert.ok(deviceId, `devices add printed no device id:\n${added}`);
      const second = mustSucceed(
        cluster.gatectl(['devices', 'enroll', '--asset-tag', assetTag], 'authB'),
        'enroll token',
      );
      const bystander = `BYSTANDER-${round}`;
      const [a, b, other] = await Promise.all([
        enroll('dev-a', tokenIn(added)),
        enroll('dev-b', tokenIn(second)),
        gatectlAsync(cluster, ['devices', 'add', '--asset-tag', bystander, '--os', 'linux'], 'authB'),
      ]);
      assert.equal(other.status, 0, `a device added through auth B meanwhile:\n${other.out}`);
      bystanders.push(bystander);
      const all = `${a.home} (exit ${a.code}):\n${a.out}\n---\n${b.home} (exit ${b.code}):\n${b.out}`;
      const winners = [a, b].filter((r) => r.code === 0);
      assert.equal(winners.length, 1, `round ${round}: exactly one ceremony enrolls\n${all}`);
      const loser = [a, b].find((r) => r.code !== 0)!;
      assert.equal(
        loser.code,
        EXIT_ALREADY_EXISTS,
        `round ${round}: the other exits with ALREADY_EXISTS's code\n${all}`,
      );
      assert.match(loser.out, /already enrolled with this attestation key/, `round ${round}: it says why\n${all}`);

      const records = deviceRecords('authB');
      const enrolled = records.find((d) => d.metadata.name === deviceId);
      assert.equal(enrolled?.spec.enroll_status, 'enrolled', `round ${round}: the device is enrolled`);
      const held = enrolled.spec.credential?.id ?? '';
      assert.ok(held, `round ${round}: the enrolled record holds a credential`);
      // Every round enrolls the one AK both TPMs share.
      credentialId ||= held;
      assert.equal(held, credentialId);
      const holding = records.filter((d) => d.spec.credential?.id === credentialId);
      assert.equal(holding.length, 1, `round ${round}: one device record holds the credential`);

      const events = enrollEvents(deviceId);
      assert.equal(events.successes, 1, `round ${round}: one device.enroll success for ${deviceId}`);
      assert.equal(events.refusals.length, 1, `round ${round}: one refusal:\n${events.refusals.join('\n')}`);
      assert.match(events.refusals[0]!, /ALREADY_EXISTS/);

      // The next round enrolls a new record of this machine: remove this one (its credential with it).
      mustSucceed(cluster.gatectl(['devices', 'rm', '--asset-tag', assetTag], 'authB'), 'devices rm');
    }
    const listed = mustSucceed(cluster.gatectl(['devices', 'ls'], 'authA'), 'devices ls');
    for (const tag of bystanders) assert.match(listed, new RegExp(tag), `${tag} is still there`);
  });

  test("a change made through auth A is counted in auth B's watcher lag as another process's write", async () => {
    const lag = 'gatehouse_watcher_lag_seconds_count';
    const fromElsewhere = () => scrapeValue(cluster.diagAddr('authB'), lag, { writer: 'another_process' });
    const before = await fromElsewhere();
    const role = join(cluster.dir, 'lag-role.yaml');
    writeFileSync(
      role,
      'kind: role\nversion: v7\nmetadata:\n  name: lag-probe\nspec:\n  allow:\n    logins: ["nobody"]\n',
    );
    const from = cluster.logs.length;
    mustSucceed(cluster.gatectl(['create', '-f', role], 'authA'), 'create role through auth A');
    // Auth B applied it once every copy did (auth B's watch feeds the proxy 2 and node copies).
    await cluster.awaitCachesApplied({ kind: 'role', name: 'lag-probe', type: 'put' }, from);
    const after = await fromElsewhere();
    assert.ok(after > before, `auth B timed deliveries of auth A's writes: ${before} before, ${after} after`);
    const sum = await scrapeValue(cluster.diagAddr('authB'), 'gatehouse_watcher_lag_seconds_sum', {
      writer: 'another_process',
    });
    console.log(
      `auth B: ${after} deliveries of other writers' changes, mean lag ${((1000 * sum) / after).toFixed(1)} ms`,
    );
  });

  test('gate ssh whose node dies mid-command exits 255 and says the connection ended before the exit status', async () => {
    const child = spawn(process.execPath, cluster.gateArgv(['ssh', `${LOGIN}@${NODE}`, 'echo started; sleep 300']), {
      env: cluster.gateEnv('dev-b'),
    });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until('the remote command running', 60_000, () => stdout.includes('started') || child.exitCode !== null);
    assert.equal(child.exitCode, null, `gate ssh ended early:\n${stdout}${stderr}`);
    await cluster.kill('node');
    await until('gate ssh ending after the node died', 60_000, () => child.exitCode !== null);
    assert.equal(await exited, 255, `exit code; stderr:\n${stderr}`);
    assert.match(
      stderr,
      new RegExp(`gate: the connection to ${NODE} ended before the remote command reported its exit status`),
    );
  });
});
