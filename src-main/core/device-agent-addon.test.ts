// The default device agent loads the TPM addon from the path composition gives it (the packaged
// app's resources/native), not only from the repository's build.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { defaultDeviceAgent } from './device-trust.ts';

const deviceHome = mkdtempSync(join(tmpdir(), 'gh-agent-addon-'));
after(() => rmSync(deviceHome, { recursive: true, force: true }));

test('openTpm and the probe use tpmAddonPath', async () => {
  const tpmAddonPath = join(deviceHome, 'resources', 'native', 'gatehouse_tpm.node');
  const agent = defaultDeviceAgent({ deviceHome, env: {}, tpmAddonPath });
  await assert.rejects(agent.openTpm(), (e: unknown) => {
    assert.ok(e instanceof GatehouseError);
    assert.equal(e.code, ErrorCode.TPM_NOT_SUPPORTED);
    assert.equal(e.details?.path, tpmAddonPath);
    return true;
  });
  const probe = await agent.probeTpm!();
  assert.match(JSON.stringify(probe), /resources\/native\/gatehouse_tpm\.node/);
});
