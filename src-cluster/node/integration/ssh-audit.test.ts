// ssh-audit (the Debian package, as a security review runs it) against a started node: the banner
// names no library or version, and no [fail] or [warn] line appears but the allowed ones below,
// each with its reason (issue 18). The FIPS setting is audited too, so its trade is on record.
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import { requireTool } from '../../../test-support/sshcert-testkit.ts';
import { SSH_BANNER } from '../../../src-shared/ssh-algorithms.ts';
import { TempDir, makeKey, startTestNode, type TestNode } from './fixtures.ts';

const run = promisify(execFile);

/** Findings that are expected, by the start of their line (algorithm and level), with why. */
const ALLOWED_FINDINGS: Record<string, string> = {
  '(kex) kex-strict-s-v00@openssh.com -- [warn] unknown algorithm':
    'the Terrapin (CVE-2023-48795) strict-kex marker; ssh-audit 2.5 predates it (2.9.0 knows it), and it must stay',
};

interface Audit {
  /** Every line of the plain-text report. */
  lines: string[];
  /** The [fail] and [warn] lines, whitespace collapsed. */
  findings: string[];
  json: {
    banner: { raw: string };
    kex: { algorithm: string }[];
    enc: string[];
    mac: string[];
    compression: string[];
    key: { algorithm: string }[];
  };
}

/** ssh-audit's text report (its exit status is not used: an unknown algorithm alone makes it non-zero) and its JSON. */
async function sshAudit(port: number): Promise<Audit> {
  const args = ['-n', '-t', '20', '-p', String(port), '127.0.0.1'];
  const text = await run('ssh-audit', args).then(
    (r) => r.stdout,
    (e: { stdout?: string; message: string }) => {
      if (!e.stdout) throw new Error(`ssh-audit printed nothing: ${e.message}`);
      return e.stdout;
    },
  );
  const json = await run('ssh-audit', ['-j', ...args]).then(
    (r) => r.stdout,
    (e: { stdout?: string }) => e.stdout ?? '',
  );
  const lines = text.split('\n');
  const findings = lines.filter((l) => /\[(fail|warn)\]/.test(l)).map((l) => l.replace(/\s+/g, ' ').trim());
  return { lines, findings, json: JSON.parse(json) as Audit['json'] };
}

describe('ssh-audit against the node', () => {
  let dir: TempDir;
  let node: TestNode;
  let fips: TestNode;

  before(async () => {
    requireTool('ssh-audit');
    dir = new TempDir();
    const ca = makeKey(dir, 'user_ca');
    node = await startTestNode(dir, ca);
    fips = await startTestNode(dir, ca, { sshAlgorithms: { fips: true } });
  });

  after(async () => {
    await node?.server.close();
    await fips?.server.close();
    dir?.remove();
  });

  it('finds no [fail] or [warn] but the allowed ones; the banner is SSH-2.0-Gatehouse', async () => {
    const audit = await sshAudit(node.port);
    const unexpected = audit.findings.filter((f) => !Object.keys(ALLOWED_FINDINGS).some((a) => f.startsWith(a)));
    assert.deepEqual(unexpected, [], `ssh-audit findings:\n${audit.lines.join('\n')}`);
    assert.ok(audit.lines.includes(`(gen) banner: ${SSH_BANNER}`), audit.lines.join('\n'));
    assert.ok(audit.lines.includes('(gen) compression: disabled'));
    assert.equal(audit.json.banner.raw, 'SSH-2.0-Gatehouse');
    assert.deepEqual(
      audit.json.kex.map((k) => k.algorithm),
      ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'kex-strict-s-v00@openssh.com'],
    );
    assert.deepEqual(audit.json.enc, [
      'aes128-gcm@openssh.com',
      'aes256-gcm@openssh.com',
      'chacha20-poly1305@openssh.com',
    ]);
    assert.deepEqual(audit.json.mac, ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com']);
    assert.deepEqual(audit.json.compression, ['none']);
    assert.deepEqual(
      audit.json.key.map((k) => k.algorithm),
      ['ssh-ed25519'],
    );
  });

  it('fips: true offers NIST-curve kex and AES-GCM, which ssh-audit fails as its only findings', async () => {
    const audit = await sshAudit(fips.port);
    assert.deepEqual(
      audit.json.kex.map((k) => k.algorithm),
      ['ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'kex-strict-s-v00@openssh.com'],
    );
    assert.deepEqual(audit.json.enc, ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com']);
    // The trade a FIPS site makes: ssh-audit distrusts the NIST curves. Nothing else may fail.
    const unexpected = audit.findings.filter(
      (f) =>
        !Object.keys(ALLOWED_FINDINGS).some((a) => f.startsWith(a)) &&
        !/^\(kex\) ecdh-sha2-nistp(256|384) -- \[fail\] using weak elliptic curves$/.test(f),
    );
    assert.deepEqual(unexpected, [], audit.lines.join('\n'));
  });
});
