// The cluster's listeners audited from outside, as issue 18's review ran them, on a default
// cluster in the split topology (so auth's own API listener has a port of its own):
// - testssl (protocols and every cipher suite, --fast) on the proxy: TLS 1.2 and 1.3 only, and
//   every suite ECDHE with AES-GCM or ChaCha20-Poly1305 (no CBC, CCM, ARIA, Camellia);
// - openssl s_client per protocol and per suite on the proxy and the auth API listener: the old
//   protocols and the weak suites refused BY THE SERVER (its alert, not a client that would not
//   try), the good ones agreed;
// - ssh-audit's JSON on the node the daemon started: banner and algorithm lists are the defaults.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterProcess } from '../../test-support/cluster-process.ts';
import { requireTool } from '../../test-support/sshcert-testkit.ts';
import { serverAlgorithms, SSH_BANNER } from '../../src-shared/ssh-algorithms.ts';

/** testssl takes ~35 s for -p -e on an idle 2-core machine; the bound only stops a hung run. */
const TESTSSL_TIMEOUT_MS = 180_000;
const PROBE_TIMEOUT_MS = 15_000;

interface Run {
  code: number | null;
  out: string;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: no result within ${timeoutMs} ms\n${out}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** Suites a server must refuse in TLS 1.2: the CBC ones testssl flagged (LUCKY13), CCM, ARIA, Camellia. */
const REFUSED_TLS12 = [
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-ECDSA-AES128-CCM',
  'ECDHE-ECDSA-AES256-CCM8',
  'ECDHE-ECDSA-ARIA128-GCM-SHA256',
  'ECDHE-ECDSA-ARIA256-GCM-SHA384',
  'ECDHE-ECDSA-CAMELLIA128-SHA256',
];
/** The cluster's certificates are ECDSA P-256, so the ECDSA forms are the ones a peer can agree. */
const AGREED_TLS12 = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
];
const AGREED_TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

function sClient(addr: string, args: string[]): Promise<Run> {
  return run('openssl', ['s_client', '-connect', addr, ...args], PROBE_TIMEOUT_MS);
}

/** The openssl probes for one listener; `name` says which in every message. */
async function assertTlsPolicy(name: string, addr: string): Promise<void> {
  for (const old of ['-tls1', '-tls1_1']) {
    // SECLEVEL=0: this client would speak the old protocol, so a refusal is the server's.
    const r = await sClient(addr, [old, '-cipher', 'DEFAULT@SECLEVEL=0']);
    assert.notEqual(r.code, 0, `${name} agreed ${old}:\n${r.out}`);
    assert.match(r.out, /alert protocol version/, `${name}: ${old} must be refused by the server's alert\n${r.out}`);
  }
  for (const suite of REFUSED_TLS12) {
    const r = await sClient(addr, ['-tls1_2', '-cipher', suite]);
    assert.notEqual(r.code, 0, `${name} agreed ${suite}:\n${r.out}`);
    assert.match(r.out, /alert handshake failure/, `${name}: ${suite} must be refused by the server's alert\n${r.out}`);
  }
  for (const suite of AGREED_TLS12) {
    const r = await sClient(addr, ['-tls1_2', '-cipher', suite]);
    assert.match(r.out, new RegExp(`New, TLSv1\\.2, Cipher is ${suite}\\b`), `${name} refused ${suite}:\n${r.out}`);
  }
  for (const suite of AGREED_TLS13) {
    const r = await sClient(addr, ['-tls1_3', '-ciphersuites', suite]);
    assert.match(r.out, new RegExp(`New, TLSv1\\.3, Cipher is ${suite}\\b`), `${name} refused ${suite}:\n${r.out}`);
  }
}

describe('TLS and SSH audit of a default cluster', () => {
  const cluster = new ClusterProcess({ topology: 'split', clusterName: 'audit' });

  before(async () => {
    for (const tool of ['testssl', 'openssl', 'ssh-audit']) requireTool(tool);
    await cluster.start();
  });

  after(() => cluster.destroy());

  it('testssl on the proxy: TLS 1.2 and 1.3 only, ECDHE with AEAD suites only', async () => {
    const jsonFile = join(cluster.dir, 'testssl.json');
    const r = await run(
      'testssl',
      [
        '--quiet',
        '--warnings',
        'off',
        '--color',
        '0',
        '--openssl',
        '/usr/bin/openssl',
        '--fast',
        '-p',
        '-e',
        '--jsonfile',
        jsonFile,
        cluster.proxyAddr,
      ],
      TESTSSL_TIMEOUT_MS,
    );
    const findings = JSON.parse(readFileSync(jsonFile, 'utf8')) as { id: string; finding: string }[];
    const finding = (id: string) => findings.find((f) => f.id === id)?.finding;
    const report = `testssl exit ${r.code}:\n${r.out}`;
    for (const id of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1']) assert.equal(finding(id), 'not offered', `${id}\n${report}`);
    assert.equal(finding('TLS1_2'), 'offered', report);
    assert.match(finding('TLS1_3') ?? '', /^offered/, report);
    const suites = findings.filter((f) => f.id.startsWith('cipher_x')).map((f) => f.finding.split(/\s+/)[1]!);
    assert.ok(suites.length >= 4, `testssl listed too few suites to judge:\n${report}`);
    for (const suite of suites) {
      assert.match(
        suite,
        /^(TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)|ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305))$/,
        `${suite} offered\n${report}`,
      );
    }
  });

  it('openssl s_client on the proxy and the auth API: old protocols and weak suites refused, AEAD agreed', async () => {
    await assertTlsPolicy('proxy', cluster.proxyAddr);
    assert.ok(cluster.authAddr, 'the split topology gives auth its own API listener');
    await assertTlsPolicy('auth API', cluster.authAddr);
  });

  it("ssh-audit on the daemon's node: banner SSH-2.0-Gatehouse and the default algorithm lists", async () => {
    const [host, port] = cluster.nodeAddr.split(':');
    const r = await run('ssh-audit', ['-j', '-t', '20', '-p', port!, host!], PROBE_TIMEOUT_MS * 2);
    const audit = JSON.parse(r.out) as {
      banner: { raw: string };
      kex: { algorithm: string }[];
      enc: string[];
      mac: string[];
      compression: string[];
    };
    const defaults = serverAlgorithms();
    assert.equal(audit.banner.raw, SSH_BANNER);
    assert.deepEqual(
      audit.kex.map((k) => k.algorithm),
      [...defaults.kex, 'kex-strict-s-v00@openssh.com'],
    );
    assert.deepEqual(audit.enc, defaults.cipher);
    assert.deepEqual(audit.mac, defaults.hmac);
    assert.deepEqual(audit.compression, ['none']);
  });
});
