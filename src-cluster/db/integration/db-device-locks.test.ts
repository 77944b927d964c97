// Database access under device trust and locks (issue 13 items 2 and 6), end to end with the real
// gateway and clients: with device trust required, a person on an untrusted device is refused in
// psql / mariadb with "unauthorized device", the same person's colleague on a swtpm-enrolled
// device gets in; a lock cuts a live query (psql and mariadb) within SSH's time and refuses the
// next connection with the lock message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startSwtpm, type Swtpm } from '../../../test-support/swtpm.ts';
import { PSQL } from '../../../test-support/databases/postgres.ts';
import { MARIADB } from '../../../test-support/databases/mariadb.ts';
import {
  dbRoleYaml,
  mariadbArgsVia,
  mariadbVia,
  MY_DB,
  PG_DB,
  psqlArgsVia,
  psqlVia,
  startDbWorld,
  startGateway,
  type DbWorld,
  type Gateway,
} from './db-fixture.ts';

const CREATED = /Created a lock with name "([0-9a-f-]{36})"/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('database access: device trust and locks', () => {
  let world: DbWorld;
  let tpm: Swtpm;
  const gateways: Gateway[] = [];
  const tpmEnv = () => ({ GATEHOUSE_TPM_TCTI: tpm.tcti });
  const gateway = async (who: string, db: string) => {
    const g = await startGateway(world, who, db, { dbUser: 'alice', dbName: 'orders' }, tpmEnv());
    gateways.push(g);
    return g;
  };
  const setClusterMode = (mode: string) =>
    world.cluster.apply(
      `kind: cluster_auth_preference\nversion: v2\nmetadata: { name: cluster-auth-preference }\nspec:\n  type: local\n  second_factor: 'off'\n  device_trust: { mode: ${mode} }\n`,
    );
  const lock = (...args: string[]) => {
    const r = world.cluster.gatectl(['lock', ...args]);
    assert.equal(r.status, 0, r.stderr);
    const name = CREATED.exec(r.stdout)?.[1];
    assert.ok(name, r.stdout);
    return name;
  };
  const unlock = (name: string) => assert.equal(world.cluster.gatectl(['rm', `lock/${name}`]).status, 0);

  before(async () => {
    tpm = await startSwtpm();
    world = await startDbWorld({ clusterName: 'dbtrust', nodeName: 'db-node' });
    world.cluster.apply(dbRoleYaml('dbs', { dbUsers: ['alice'], dbNames: ['orders'] }));
    world.addUserAndLogin('tina', ['dbs']);
    world.addUserAndLogin('ugo', ['dbs']);
    // tina's machine is enrolled (a real TPM 2.0 in swtpm) and her login re-issued as device-trusted.
    const tag = world.gateAs('tina', ['device', 'asset-tag'], '', tpmEnv()).stdout.trim();
    const added = world.cluster.gatectl(['devices', 'add', '--asset-tag', tag, '--os', 'linux', '--enroll']);
    const token = /^ {2}(\S{20,})$/m.exec(added.stdout)?.[1];
    assert.ok(token, added.stdout + added.stderr);
    const enroll = world.gateAs('tina', ['device', 'enroll', '--token-stdin'], `${token}\n`, tpmEnv());
    assert.equal(enroll.status, 0, enroll.out);
    const relogin = world.gateAs(
      'tina',
      [
        'login',
        '--proxy',
        world.cluster.proxyAddr,
        '--ca-pin',
        world.cluster.caPin,
        '--user',
        'tina',
        '--password-stdin',
      ],
      'tina-password-1\n',
      tpmEnv(),
    );
    assert.equal(relogin.status, 0, relogin.out);
    assert.match(relogin.out, /this session is device-trusted/);
  });
  after(async () => {
    for (const g of gateways) await g.stop();
    await world?.stop();
    await tpm?.stop();
  });

  test('cluster device trust required: untrusted device refused in psql and mariadb, trusted device allowed', async () => {
    setClusterMode('required');
    try {
      const [ugoPg, tinaPg, ugoMy, tinaMy] = [
        await gateway('ugo', PG_DB),
        await gateway('tina', PG_DB),
        await gateway('ugo', MY_DB),
        await gateway('tina', MY_DB),
      ];
      const refusedPg = psqlVia(ugoPg.port, 'alice', 'orders', 'select 1');
      assert.notEqual(refusedPg.status, 0);
      assert.match(refusedPg.out, /FATAL:\s+.*unauthorized device/);
      const refusedMy = mariadbVia(ugoMy.port, 'alice', 'orders', 'select 1');
      assert.notEqual(refusedMy.status, 0);
      assert.match(refusedMy.out, /ERROR 1045 \(28000\).*unauthorized device/);
      const pg = psqlVia(tinaPg.port, 'alice', 'orders', 'select current_user');
      assert.equal(pg.status, 0, pg.out);
      assert.equal(pg.out.trim(), 'alice');
      const my = mariadbVia(tinaMy.port, 'alice', 'orders', 'select current_user()');
      assert.equal(my.status, 0, my.out);
      assert.equal(my.out.trim(), 'alice@%');
      // The refusal left the gateway up: the untrusted one still answers (and still refuses).
      assert.match(psqlVia(ugoPg.port, 'alice', 'orders', 'select 1').out, /unauthorized device/);
    } finally {
      setClusterMode('optional');
    }
  });

  test('role device_trust_mode required under an optional cluster refuses the untrusted device only', async () => {
    world.cluster.apply(dbRoleYaml('dbs', { dbUsers: ['alice'], dbNames: ['orders'], deviceTrustMode: 'required' }));
    try {
      const ugo = await gateway('ugo', PG_DB);
      const tina = await gateway('tina', PG_DB);
      assert.match(psqlVia(ugo.port, 'alice', 'orders', 'select 1').out, /FATAL:\s+.*unauthorized device/);
      assert.equal(psqlVia(tina.port, 'alice', 'orders', 'select current_user').out.trim(), 'alice');
    } finally {
      world.cluster.apply(dbRoleYaml('dbs', { dbUsers: ['alice'], dbNames: ['orders'] }));
    }
  });

  for (const protocol of ['postgres', 'mysql'] as const) {
    test(`a user lock cuts a live ${protocol} query with the lock message and refuses the next connection`, async () => {
      const g = await gateway('ugo', protocol === 'postgres' ? PG_DB : MY_DB);
      const [cmd, args] =
        protocol === 'postgres'
          ? [PSQL, [...psqlArgsVia(g.port, 'alice', 'orders'), '-c', 'select pg_sleep(60)']]
          : [MARIADB, [...mariadbArgsVia(g.port, 'alice', 'orders'), '-e', 'select sleep(60)']];
      const client = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      client.stdout.on('data', (d: Buffer) => (out += d.toString()));
      client.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => client.once('exit', (code) => resolve(code)));
      try {
        // The query is running in the real database: the session is live end to end.
        const running = () =>
          protocol === 'postgres'
            ? world.pg.admin("select count(*) from pg_stat_activity where query = 'select pg_sleep(60)'").trim()
            : world.maria
                .admin("select count(*) from information_schema.processlist where info = 'select sleep(60)'")
                .trim();
        const deadline = Date.now() + 15_000;
        while (running() !== '1' && Date.now() < deadline) await sleep(100);
        assert.equal(running(), '1', `the query never ran; client said: ${out}`);
        const t0 = Date.now();
        const name = lock('--user=ugo', '--message=db cut');
        try {
          const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
          const elapsed = Date.now() - t0;
          assert.notEqual(code, 'timeout', `the ${protocol} session is still open; client said: ${out}`);
          assert.notEqual(code, 0);
          // gatectl's own start-up is most of this, as in the SSH lock test.
          assert.ok(elapsed < 8000, `took ${elapsed} ms`);
          if (protocol === 'postgres') assert.match(out, /lock targeting User:"ugo" is in force: db cut/);
          if (protocol === 'postgres') {
            // The upstream session ended too, not just the client's side (the launcher makes
            // PostgreSQL check for a vanished client during a query; MariaDB's SLEEP() does not).
            const gone = Date.now() + 5000;
            while (running() !== '0' && Date.now() < gone) await sleep(100);
            assert.equal(running(), '0', 'the database still runs the cut query');
          }
          const next =
            protocol === 'postgres'
              ? psqlVia(g.port, 'alice', 'orders', 'select 1')
              : mariadbVia(g.port, 'alice', 'orders', 'select 1');
          assert.notEqual(next.status, 0);
          assert.match(next.out, /lock targeting User:"ugo" is in force: db cut/);
        } finally {
          unlock(name);
        }
      } finally {
        client.kill('SIGKILL');
      }
    });
  }
});
