// The keystroke row's browser floor (issue 16): the same keydown → WebSocket binary frame → echo
// frame received path as the app's terminal, but in a minimal page (no React, no xterm, no
// stores) talking to a bare `ws` echo server in this process (no host, no proxy, no node). What
// this page measures is the browser's own cost of the path; the app's figure minus this floor is
// what Gatehouse adds in the renderer. Timed in the page, as the app's row is.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from '@playwright/test';
import { WebSocketServer } from 'ws';

const PAGE = `<!doctype html><meta charset="utf-8"><title>WebSocket floor</title>
<label for="k">Keys</label><input id="k" autofocus>
<script>
  const ws = new WebSocket('ws://' + location.host + '/echo');
  ws.binaryType = 'arraybuffer';
  const st = { t0: 0, sent: 0, results: [], waiter: null };
  window.__open = new Promise((r) => ws.addEventListener('open', r));
  // As the app's terminal: the keydown becomes one small binary frame (kind 2, 5-byte header).
  window.addEventListener('keydown', (e) => {
    st.t0 = performance.now();
    const frame = new Uint8Array(6);
    frame[0] = 2;
    frame[5] = e.key.charCodeAt(0);
    ws.send(frame);
    st.sent = performance.now();
  }, true);
  ws.addEventListener('message', () => {
    st.results.push({ sent: st.sent - st.t0, recv: performance.now() - st.t0 });
    if (st.waiter && st.results.length >= st.waiter.n) st.waiter.resolve(st.results[st.waiter.n - 1]);
  });
  // Resolves with the n-th keystroke's timings once its echo is in.
  window.__result = (n) =>
    st.results.length >= n ? st.results[n - 1] : new Promise((resolve) => (st.waiter = { n, resolve }));
</script>`;

export interface FloorRun {
  /** keydown → frame handed to WebSocket.send */
  sent: number[];
  /** keydown → echo frame's message event */
  recv: number[];
}

/** Serves PAGE and echoes every binary frame back at once (TCP_NODELAY is ws's default). */
async function startEchoServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  const wss = new WebSocketServer({ server, path: '/echo', perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise((r) => server.close(r));
    },
  };
}

/** `keys` keystrokes in a fresh context of `browser`, each timed keydown → echo received. */
export async function browserWsFloor(browser: Browser, keys: number): Promise<FloorRun> {
  const echo = await startEchoServer();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(echo.url);
    await page.evaluate('window.__open');
    await page.locator('#k').focus();
    const out: FloorRun = { sent: [], recv: [] };
    for (let i = 0; i < keys; i++) {
      await page.keyboard.type(String.fromCharCode(97 + (i % 26)));
      const r = await page.evaluate<{ sent: number; recv: number }>(`window.__result(${i + 1})`);
      out.sent.push(r.sent);
      out.recv.push(r.recv);
    }
    return out;
  } finally {
    await context.close();
    await echo.close();
  }
}
