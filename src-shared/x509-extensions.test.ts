import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { readX509Extensions } from './x509-extensions.ts';

/** A certificate made by OpenSSL (not by Gatehouse's encoder), with standard and private extensions. */
function opensslCert(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'x509-ext-'));
  try {
    const conf = [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = ext',
      'prompt = no',
      '[dn]',
      'CN = alice',
      '[ext]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = clientAuth',
      '1.3.6.1.4.1.59999.1.2 = ASN1:UTF8String:dev-1',
      `1.3.6.1.4.1.59999.1.1 = DER:${Buffer.from('x'.repeat(300)).toString('hex')}`,
    ].join('\n');
    writeFileSync(join(dir, 'req.conf'), conf);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-config',
        join(dir, 'req.conf'),
      ],
      { stdio: 'ignore' },
    );
    return new X509Certificate(readFileSync(join(dir, 'cert.pem'))).raw;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every extension reads back as @peculiar/x509 reads it: OID, criticality and value bytes', () => {
  const der = opensslCert();
  const ours = readX509Extensions(der);
  const theirs = new x509.X509Certificate(Uint8Array.from(der)).extensions;
  assert.equal(ours.size, theirs.length);
  for (const e of theirs) {
    const mine = ours.get(e.type);
    assert.ok(mine, `extension ${e.type} missing`);
    assert.equal(mine.critical, e.critical, e.type);
    assert.deepEqual(mine.value, Buffer.from(e.value), e.type);
  }
  assert.equal(ours.get('2.5.29.19')?.critical, true);
  assert.equal(ours.get('2.5.29.37')?.critical, false);
  assert.equal(ours.get('1.3.6.1.4.1.59999.1.1')?.value.length, 300);
});

test('truncated, overlong or reshaped DER is refused, not read past its end', () => {
  const der = opensslCert();
  assert.throws(() => readX509Extensions(der.subarray(0, der.length - 1)), /not a DER certificate/);
  assert.throws(() => readX509Extensions(Buffer.concat([der, Buffer.from([0])])), /not a DER certificate/);
  assert.throws(() => readX509Extensions(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])), /not a DER certificate/);
  assert.throws(() => readX509Extensions(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])), /no TBSCertificate/);
  assert.throws(() => readX509Extensions(Buffer.alloc(0)), /not a DER certificate/);
  // A certificate whose inner length claims more than its container holds.
  const broken = Buffer.from(der);
  const tbsLengthAt = broken[1]! & 0x80 ? 2 + (broken[1]! & 0x7f) : 2;
  broken[tbsLengthAt + 2] = 0xff;
  broken[tbsLengthAt + 3] = 0xff;
  assert.throws(() => readX509Extensions(broken), /not a DER certificate/);
});
