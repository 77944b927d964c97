// Our server-side MakeCredential must produce blobs a real TPM activates (tpm2-tss via
// tpm2_activatecredential on swtpm), for RSA and ECC EKs, and only for the AK it names.
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCredential } from '../tpm/credential.ts';
import { parsePublic, publicKeyObject, tpmName } from '../tpm/public.ts';
import { startTpmFixture, type TpmFixture } from './tpm-fixture.ts';
import { activateCredential, decodeCredentialFile, encodeCredentialFile, tpm2, tpm2Try } from './tpm2-tools.ts';

let f: TpmFixture;
before(async () => {
  f = await startTpmFixture();
});
after(async () => {
  await f?.close();
});

function writeCred(name: string, cred: { credentialBlob: Buffer; encryptedSecret: Buffer }): string {
  const file = join(f.dir, name);
  writeFileSync(file, encodeCredentialFile(cred.credentialBlob, cred.encryptedSecret));
  return file;
}

test('our parsing of tpm2-tools key files gives the Names the TPM computed', () => {
  assert.deepEqual(tpmName(parsePublic(f.akRsa.pub)), f.akRsa.name);
  assert.deepEqual(tpmName(parsePublic(f.akEcc.pub)), f.akEcc.name);
  const ek = parsePublic(f.ekRsa.pub);
  assert.equal(ek.type, 'rsa');
  assert.equal(parsePublic(f.ekEcc.pub).type, 'ecc');
});

test("the RSA EK public key we parse is the key in the TPM's EK certificate", () => {
  const der = join(f.dir, 'ek-cert.der');
  tpm2(f.tpm, 'nvread', ['0x01c00002', '-o', der]);
  const cert = new X509Certificate(readFileSync(der));
  const ours = publicKeyObject(parsePublic(f.ekRsa.pub)).export({ format: 'der', type: 'spki' });
  assert.deepEqual(ours, cert.publicKey.export({ format: 'der', type: 'spki' }));
});

test('our credential blob has the same layout as tpm2_makecredential output', () => {
  const secret = Buffer.from('0123456789abcdef');
  const secretFile = join(f.dir, 'ref-secret');
  const refFile = join(f.dir, 'ref.cred');
  const ekPub = join(f.dir, 'ek-rsa.pub');
  writeFileSync(secretFile, secret);
  tpm2(undefined, 'makecredential', [
    '-T',
    'none',
    '-e',
    ekPub,
    '-s',
    secretFile,
    '-n',
    f.akRsa.name.toString('hex'),
    '-o',
    refFile,
  ]);
  const ref = decodeCredentialFile(readFileSync(refFile));
  const ours = makeCredential(f.ekRsa.pub, f.akRsa.name, secret);
  assert.equal(ours.credentialBlob.length, ref.credentialBlob.length);
  assert.equal(ours.encryptedSecret.length, ref.encryptedSecret.length);
  // And the reference blob activates with our helper, so a failure below is ours, not the harness's.
  assert.deepEqual(activateCredential(f.tpm, f.dir, f.akRsa.ctx, f.ekRsa.ctx, refFile), secret);
});

test('tpm2_activatecredential recovers the secret from our MakeCredential with an RSA EK', () => {
  const secret = randomBytes(32);
  const file = writeCred('rsa.cred', makeCredential(f.ekRsa.pub, f.akRsa.name, secret));
  assert.deepEqual(activateCredential(f.tpm, f.dir, f.akRsa.ctx, f.ekRsa.ctx, file), secret);
});

test('tpm2_activatecredential recovers the secret from our MakeCredential with an ECC P-256 EK', () => {
  const secret = randomBytes(20);
  const file = writeCred('ecc.cred', makeCredential(f.ekEcc.pub, f.akEcc.name, secret));
  assert.deepEqual(activateCredential(f.tpm, f.dir, f.akEcc.ctx, f.ekEcc.ctx, file), secret);
});

test('a credential made for another Name does not activate for this AK', () => {
  const otherName = Buffer.from(f.akEcc.name);
  const file = writeCred('wrong-name.cred', makeCredential(f.ekRsa.pub, otherName, randomBytes(32)));
  assert.throws(() => activateCredential(f.tpm, f.dir, f.akRsa.ctx, f.ekRsa.ctx, file), /integrity check failed/);
  // The TPM must still work afterwards (no handles leaked by the failed attempt).
  assert.equal(tpm2Try(f.tpm, 'getcap', ['handles-transient']).output.trim(), '');
});

test('a credential encrypted to another EK does not activate', () => {
  const file = writeCred('wrong-ek.cred', makeCredential(f.ekEcc.pub, f.akRsa.name, randomBytes(32)));
  assert.throws(() => activateCredential(f.tpm, f.dir, f.akRsa.ctx, f.ekRsa.ctx, file), /Esys_ActivateCredential/);
});
