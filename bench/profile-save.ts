// node --import tsx bench/profile-save.ts — what storing a login's files costs on this disk, two
// ways interleaved in one run (issue 16, device authentication): ProfileStore.save, the files
// fsynced one after the other (a plain login's path, and a trusted login's before i16-perf, when
// the current-profile pointer was rewritten every time), against ProfileStore.saveBatched (a
// trusted login's re-issued certificates: the fsyncs in parallel, an unchanged pointer left
// alone). Prints p50/p95 and the ratio; BENCH_SAVE_RUNS (default 50) per row. Not a test.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeFileAtomic } from '../src-main/core/files.ts';
import { generateClientKey } from '../src-main/core/keys.ts';
import { ProfileStore, type Profile, type ProfileCredentials } from '../src-main/core/profiles.ts';
import { formatCertificateLine, signCertificate } from '../src-shared/sshcert/index.ts';
import { ms, pct } from './device-login.ts';

const RUNS = Number(process.env.BENCH_SAVE_RUNS ?? 50);

function loginFiles(): { profile: Profile; creds: ProfileCredentials } {
  const key = generateClientKey();
  const now = BigInt(Math.floor(Date.now() / 1000));
  const blob = signCertificate({
    publicKey: key.publicKeyBlob,
    type: 'user',
    keyId: 'bench',
    principals: ['root'],
    validAfter: now - 60n,
    validBefore: now + 3600n,
    caPrivateKey: generateKeyPairSync('ed25519').privateKey,
  });
  // About the size of a real login's X.509 certificate and CA material.
  const pem = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(1400)}\n-----END CERTIFICATE-----\n`;
  const profile: Profile = {
    proxy: '127.0.0.1:3080',
    user: 'bench',
    cluster: 'bench',
    roles: ['access'],
    logins: ['root'],
    validUntil: '2030-01-01T00:00:00.000Z',
    loggedInAt: '2030-01-01T00:00:00.000Z',
    sshHostCaKeys: ['ssh-ed25519 AAAA host-ca'],
    tlsHostCaCerts: [pem],
    sshUserCaKeys: [],
    tlsUserCaCerts: [pem],
    device: { deviceId: 'device', assetTag: 'tag', credentialId: 'credential' },
  };
  return { profile, creds: { key, sshCertificate: formatCertificateLine(blob), tlsCertificatePem: pem } };
}

async function main(): Promise<void> {
  // On the disk the checkout is on (the home directory usually shares it), not a tmpfs /tmp.
  const home = mkdtempSync(join(process.cwd(), '.bench-profile-save-'));
  try {
    const store = new ProfileStore(home);
    const { profile, creds } = loginFiles();
    store.save(profile, creds);
    const pointer = join(home, 'current-profile.json');
    const pointerText = JSON.stringify({ proxy: profile.proxy, user: profile.user }) + '\n';
    const sequential: number[] = [];
    const batched: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      let t0 = performance.now();
      store.save(profile, creds, { keyStored: true });
      writeFileAtomic(pointer, pointerText); // as setCurrent did before: rewritten every time
      sequential.push(performance.now() - t0);
      t0 = performance.now();
      await store.saveBatched(profile, creds, { keyStored: true });
      batched.push(performance.now() - t0);
    }
    const row = (label: string, v: number[]) =>
      `  ${label.padEnd(58)} p50 ${ms(pct(v, 50)).padStart(7)}  p95 ${ms(pct(v, 95)).padStart(7)}`;
    console.log(`storing a trusted login's files (n=${RUNS} each, interleaved):`);
    console.log(row('one after the other (save + pointer: 4 fsyncs in a row)', sequential));
    console.log(row('batched (saveBatched: 3 fsyncs in parallel)', batched));
    console.log(
      `  ratio batched / one after the other: p50 ${(pct(batched, 50) / pct(sequential, 50)).toFixed(2)}x, ` +
        `p95 ${(pct(batched, 95) / pct(sequential, 95)).toFixed(2)}x`,
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench profile-save failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
