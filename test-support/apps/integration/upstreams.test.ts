// The app-access upstreams on their own, with the same clients the app tests use through the
// gateway (curl and a `ws` WebSocket client): nginx serves its page and the large file intact and
// proxies /ws to the echo server; the header echo reports method, headers and a chunked body; so a
// failure through Gatehouse is Gatehouse's, not the upstream's.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { closed, curl, CURL_STATS, curlStats, echoOnce, openWebSocket } from '../clients.ts';
import { NGINX_INDEX_HTML, NGINX_INDEX_TEXT, startNginx, type NginxServer } from '../nginx.ts';
import { startHeaderEcho, type EchoedRequest, type HeaderEcho } from '../header-echo.ts';

describe('startNginx', () => {
  let nginx: NginxServer;
  before(async () => {
    nginx = await startNginx({ largeFileMiB: 3 });
  });
  after(() => nginx?.stop());

  it('serves the index page twice over one kept-alive connection', async () => {
    // -w per URL: the second request opens no new connection (num_connects 0).
    const r = await curl(['-w', CURL_STATS, `${nginx.url}/`, `${nginx.url}/index.html`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split(NGINX_INDEX_TEXT).length, 3, r.stdout);
    assert.deepEqual(curlStats(r.stdout), [
      { code: 200, bytes: Buffer.byteLength(NGINX_INDEX_HTML), connects: 1 },
      { code: 200, bytes: Buffer.byteLength(NGINX_INDEX_HTML), connects: 0 },
    ]);
  });

  it('checksums of the large file match what curl downloads', async () => {
    const out = `${nginx.dir}/download.bin`;
    const r = await curl(['--fail', '-o', out, '-w', '%{size_download}', `${nginx.url}${nginx.largeFile.path}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(Number(r.stdout), nginx.largeFile.bytes);
    assert.equal(createHash('sha256').update(readFileSync(out)).digest('hex'), nginx.largeFile.sha256);
  });

  it('proxies /ws to the echo server (text and binary)', async () => {
    const ws = await openWebSocket(`ws://127.0.0.1:${nginx.port}/ws`);
    assert.equal(await echoOnce(ws, 'hello'), 'hello');
    const binary = Buffer.from([0, 1, 2, 255]);
    assert.deepEqual(await echoOnce(ws, binary), binary);
    assert.equal(nginx.echo.openConnections(), 1);
    ws.close();
    await closed(ws);
  });

  it('makes a big file sparse and still knows its checksum; stop() removes everything', async () => {
    const big = await startNginx({ largeFileMiB: 100 });
    const head = await curl(['-I', `${big.url}${big.largeFile.path}`]);
    assert.match(head.stdout, /Content-Length: 104857600/i);
    const zeros = createHash('sha256');
    const mib = Buffer.alloc(1 << 20);
    for (let i = 0; i < 100; i++) zeros.update(mib);
    assert.equal(big.largeFile.sha256, zeros.digest('hex'));
    await big.stop();
    assert.equal(existsSync(big.dir), false);
    const gone = await curl([`${big.url}/`]);
    assert.notEqual(gone.status, 0);
  });
});

describe('startHeaderEcho', () => {
  let echo: HeaderEcho;
  before(async () => {
    echo = await startHeaderEcho();
  });
  after(() => echo?.stop());

  it('answers the request as JSON, repeated headers and a chunked upload included', async () => {
    const r = await curl(
      [
        '-X',
        'POST',
        '-H',
        'X-Twice: one',
        '-H',
        'X-Twice: two',
        '-H',
        'Transfer-Encoding: chunked',
        '--data-binary',
        '@-',
        `${echo.url}/path?q=1`,
      ],
      'x'.repeat(100_000),
    );
    assert.equal(r.status, 0, r.stderr);
    const seen = JSON.parse(r.stdout) as EchoedRequest;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/path?q=1');
    assert.deepEqual(seen.headers['x-twice'], ['one', 'two']);
    assert.equal(seen.chunked, true);
    assert.equal(seen.bodyBytes, 100_000);
    assert.equal(seen.bodySha256, createHash('sha256').update('x'.repeat(100_000)).digest('hex'));
    assert.equal(echo.requests().at(-1)?.bodySha256, seen.bodySha256);
  });
});

describe('a missing nginx', () => {
  it('is an error naming the package and the command, never a skip', async () => {
    await assert.rejects(
      startNginx({ binary: '/nonexistent/nginx' }),
      /\/nonexistent\/nginx not found: install nginx-light: node scripts\/system-packages\.mjs/,
    );
  });
});
