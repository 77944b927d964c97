// An AK's creation attestation made by the reference client (tpm2_create --creation-data, then
// tpm2_certifycreation signed by the new key itself) must verify, and must fail when the creation
// data is changed or the attestation is about another object.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../src-shared/errors.ts';
import { parseCreationData, verifyCreation } from '../tpm/creation.ts';
import { parsePublic, tpmName } from '../tpm/public.ts';
import { startTpmFixture, type TpmFixture } from './tpm-fixture.ts';
import { flushAll, tpm2 } from './tpm2-tools.ts';

interface CreatedKey {
  ctx: string;
  pub: Buffer;
  creationData: Buffer;
  hashFile: string;
  ticketFile: string;
}

let f: TpmFixture;
let srk: string;
let a: CreatedKey;
let b: CreatedKey;

/** A restricted signing key (AK-shaped) under the owner SRK, with the TPM's creation data and ticket. */
function createKey(label: string): CreatedKey {
  const p = (ext: string) => join(f.dir, `${label}.${ext}`);
  tpm2(f.tpm, 'create', [
    '-C',
    srk,
    '-G',
    'rsa2048:rsassa-sha256:null',
    '-a',
    'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign',
    '-u',
    p('pub'),
    '-r',
    p('priv'),
    '--creation-data',
    p('cd'),
    '--creation-ticket',
    p('ticket'),
    '--creation-hash',
    p('hash'),
  ]);
  flushAll(f.tpm);
  tpm2(f.tpm, 'load', ['-C', srk, '-u', p('pub'), '-r', p('priv'), '-c', p('ctx')]);
  flushAll(f.tpm);
  return {
    ctx: p('ctx'),
    pub: readFileSync(p('pub')),
    creationData: readFileSync(p('cd')),
    hashFile: p('hash'),
    ticketFile: p('ticket'),
  };
}

function certifyCreation(signer: CreatedKey, object: CreatedKey): { attest: Buffer; signature: Buffer } {
  const id = process.hrtime.bigint();
  const sig = join(f.dir, `cc-${id}.sig`);
  const attest = join(f.dir, `cc-${id}.attest`);
  tpm2(f.tpm, 'certifycreation', [
    '-C',
    signer.ctx,
    '-c',
    object.ctx,
    '-d',
    object.hashFile,
    '-t',
    object.ticketFile,
    '-g',
    'sha256',
    '-o',
    sig,
    '--attestation',
    attest,
  ]);
  flushAll(f.tpm);
  return { attest: readFileSync(attest), signature: readFileSync(sig) };
}

function rejects(fn: () => unknown, reason: string): void {
  assert.throws(fn, (e: unknown) => {
    const err = e as { code?: string; details?: { reason?: string }; message?: string };
    assert.equal(err.code, ErrorCode.DEVICE_ATTESTATION_FAILED, err.message);
    assert.equal(err.details?.reason, reason, err.message);
    return true;
  });
}

before(async () => {
  f = await startTpmFixture();
  srk = join(f.dir, 'srk.ctx');
  tpm2(f.tpm, 'createprimary', ['-C', 'o', '-c', srk]);
  flushAll(f.tpm);
  a = createKey('cert-a');
  b = createKey('cert-b');
});
after(async () => {
  await f?.close();
});

test("a key's certification of its own creation verifies, and names its parent", () => {
  const { attest, creationData } = verifyCreation({
    akPublic: a.pub,
    creationData: a.creationData,
    ...certifyCreation(a, a),
  });
  assert.deepEqual(attest.objectName, tpmName(parsePublic(a.pub)));
  assert.equal(creationData.parentName.length, 34);
  assert.equal(creationData.parentNameAlg, 0x000b);
});

test('changed creation data is rejected', () => {
  const cc = certifyCreation(a, a);
  const changed = Buffer.from(a.creationData);
  changed[changed.length - 5]! ^= 1; // inside parentQualifiedName
  assert.equal(parseCreationData(changed).raw.length, parseCreationData(a.creationData).raw.length);
  rejects(() => verifyCreation({ akPublic: a.pub, creationData: changed, ...cc }), 'creation_mismatch');
});

test('a genuine attestation about another object does not vouch for this key', () => {
  // Signed by A, about B: the signature is valid for A, but the attested object is not A.
  const cc = certifyCreation(a, b);
  rejects(() => verifyCreation({ akPublic: a.pub, creationData: b.creationData, ...cc }), 'creation_mismatch');
  rejects(() => verifyCreation({ akPublic: b.pub, creationData: b.creationData, ...cc }), 'bad_signature');
});
