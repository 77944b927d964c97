import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { loadTpmAddon } from './addon.ts';
import { akBlobPath, readAkBlob, writeAkBlob } from './ak-store.ts';
import { DEFAULT_TPM_TCTI, tctiFrom } from './tpm-client.ts';
import { toTpmError } from './tpm-errors.ts';

const isCode = (code: ErrorCode, text: RegExp) => (e: unknown) =>
  e instanceof GatehouseError && e.code === code && text.test(e.message);

describe('loadTpmAddon', () => {
  it('names the platform when there is no TPM addon for it', () => {
    assert.throws(
      () => loadTpmAddon({ platform: 'darwin' }),
      isCode(ErrorCode.TPM_NOT_SUPPORTED, /not supported on darwin/),
    );
  });

  it('says how to build the addon when the build is missing', () => {
    assert.throws(
      () => loadTpmAddon({ platform: 'linux', path: '/nonexistent/gatehouse_tpm.node' }),
      isCode(ErrorCode.TPM_NOT_SUPPORTED, /not built.*libtss2-dev.*build-native\.mjs/),
    );
  });

  it('reports a file that is not a loadable addon', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-addon-'));
    try {
      const path = join(dir, 'broken.node');
      writeFileSync(path, 'not an ELF file');
      assert.throws(
        () => loadTpmAddon({ platform: 'linux', path }),
        isCode(ErrorCode.TPM_NOT_SUPPORTED, /does not load/),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('toTpmError', () => {
  it('maps native codes and keeps the TSS2 return code', () => {
    const native = Object.assign(new Error('Load(AK) failed'), { code: 'TPM_BINDING', rc: 0x1df, rcText: 'integrity' });
    const e = toTpmError(native);
    assert.equal(e.code, ErrorCode.TPM_BINDING);
    assert.deepEqual(e.details, { tpmCode: 'TPM_BINDING', rc: 0x1df, rcText: 'integrity' });
    assert.equal(toTpmError(Object.assign(new Error('x'), { code: 'TPM_BUSY' })).code, ErrorCode.TPM_LOCKOUT);
    assert.match(
      toTpmError(Object.assign(new Error('x'), { code: 'TPM_LOCKOUT' })).message,
      /dictionary-attack lockout/,
    );
    assert.equal(
      toTpmError(Object.assign(new Error('x'), { code: 'TPM_PERMISSION_DENIED' })).code,
      ErrorCode.TPM_PERMISSION_DENIED,
    );
    assert.equal(toTpmError(new Error('plain')).code, ErrorCode.TPM_ERROR);
  });
});

describe('tctiFrom', () => {
  it('prefers the explicit TCTI, then GATEHOUSE_TPM_TCTI, then /dev/tpmrm0', () => {
    assert.equal(tctiFrom({ tcti: 'a', env: { GATEHOUSE_TPM_TCTI: 'b' } }), 'a');
    assert.equal(tctiFrom({ env: { GATEHOUSE_TPM_TCTI: 'b' } }), 'b');
    assert.equal(tctiFrom({ env: {} }), DEFAULT_TPM_TCTI);
    assert.equal(DEFAULT_TPM_TCTI, 'device:/dev/tpmrm0');
  });
});

describe('AK blob store', () => {
  it('round-trips the blob in a 0600 file and treats a corrupt file as absent', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gatehouse-ak-')), 'cache');
    try {
      assert.equal(readAkBlob(dir), null);
      const ak = {
        public: Buffer.from('pub'),
        private: Buffer.from('priv'),
        creationData: Buffer.from('cd'),
        creationAttest: Buffer.from('ca'),
        creationSignature: Buffer.from('cs'),
      };
      writeAkBlob(dir, ak);
      assert.equal(statSync(akBlobPath(dir)).mode & 0o777, 0o600);
      assert.deepEqual(readAkBlob(dir), ak);
      writeFileSync(akBlobPath(dir), '{"version":1,"public":');
      assert.equal(readAkBlob(dir), null);
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });
});
