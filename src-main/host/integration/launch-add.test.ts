// The launcher's add of a NEW cluster that fails after the login form was already shown (issue 16):
// the real services are composed, the proxy address refuses connections (nothing listens there).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../../src-shared/errors.ts';
import { consoleLogger } from '../../app/logger.ts';
import type { ClusterSummary } from '../../ipc/contract.ts';
import { LaunchAddRow } from '../launch-add-row.ts';
import { composeLaunchServices, type LaunchServices } from '../launch-services.ts';

const PIN = 'SHA256:' + 'ab'.repeat(32);

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('a new cluster whose add fails after the form showed', () => {
  let home: string;
  let launched: LaunchServices;
  let proxy: string;

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'gatehouse-launch-add-'));
    proxy = `127.0.0.1:${await closedPort()}`;
  });
  after(async () => {
    await launched?.services.close();
    rmSync(home, { recursive: true, force: true });
  });

  test('is listed as connecting at once, then as failed with its error, and the renderer is told', async () => {
    const row = new LaunchAddRow(proxy, PIN);
    launched = composeLaunchServices({
      home,
      log: consoleLogger('error'),
      addCluster: { proxy, caPin: PIN },
      addRow: row,
    });
    const dispatcher = await launched.dispatcher;
    const changed: unknown[] = [];
    dispatcher.onEvent((event, payload) => {
      if (event === 'clusters.changed') changed.push(payload);
    });
    const first = await dispatcher.invoke('clusters.list', {});
    assert.ok(first.ok);
    assert.deepEqual(
      (first.value as ClusterSummary[]).map((c) => [c.proxy, c.adding, c.current]),
      [[proxy, 'connecting', true]],
    );

    await assert.rejects(launched.clusterAdd!.done);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(changed, [{ proxy }]);
    const second = await dispatcher.invoke('clusters.list', {});
    assert.ok(second.ok);
    const [failed] = second.value as ClusterSummary[];
    assert.equal(failed?.adding, 'failed');
    assert.equal(failed?.addError?.code, ErrorCode.PROXY_UNREACHABLE, JSON.stringify(failed?.addError));
  });
});
