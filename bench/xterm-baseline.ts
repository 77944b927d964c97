// The baseline of the terminal throughput row: a minimal local web server whose page is the same
// xterm path the app uses (bench/xterm-baseline-page.ts), connected over one WebSocket to a
// node-pty running the given command (stock `ssh -tt` in bench/app.ts). Binary frames as in the
// app; text messages are the page's size and flow control (pause / resume the pty).
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import pty from 'node-pty';
import { WebSocketServer } from 'ws';
import {
  TerminalFrameKind,
  decodeTerminalFrame,
  encodeTerminalFrame,
  splitForFrames,
} from '../src-shared/terminal-frame.ts';
import { ROOT } from './app-probes.ts';

export interface XtermBaseline {
  url: string;
  close(): Promise<void>;
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>xterm baseline</title>
<link rel="stylesheet" href="/xterm.css"><link rel="stylesheet" href="/terminal.css"><style>html,body{margin:0;height:100%;background:#0f141b}
#terminal{position:absolute;inset:8px}</style></head><body><div id="terminal" class="terminal-host" role="region" aria-label="Terminal baseline"></div>
<script type="module" src="/page.js"></script></body></html>`;

/** Serves the page on 127.0.0.1; each WebSocket gets its own pty running `file args`. */
export async function startXtermBaseline(file: string, args: string[]): Promise<XtermBaseline> {
  const bundle = await build({
    entryPoints: [join(ROOT, 'bench/xterm-baseline-page.ts')],
    bundle: true,
    format: 'esm',
    minify: true,
    write: false,
    logLevel: 'warning',
  });
  const script = bundle.outputFiles[0]!.text;
  const css = readFileSync(join(ROOT, 'node_modules/@xterm/xterm/css/xterm.css'), 'utf8');
  // The app's terminal stylesheet: its cursor-blink rule (cursor-blink.ts) applies to this page too.
  const appCss = readFileSync(join(ROOT, 'src-renderer/styles/terminal.css'), 'utf8');
  const server: Server = createServer((req, res) => {
    const [type, body] =
      req.url === '/page.js'
        ? ['text/javascript', script]
        : req.url === '/xterm.css'
          ? ['text/css', css]
          : req.url === '/terminal.css'
            ? ['text/css', appCss]
            : ['text/html', PAGE];
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(body);
  });
  const wss = new WebSocketServer({ server, path: '/pty', perMessageDeflate: false });
  const terms = new Set<pty.IPty>();
  wss.on('connection', (ws) => {
    let term: pty.IPty | undefined;
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        term?.write(Buffer.from(decodeTerminalFrame(data, TerminalFrameKind.input).data).toString('utf8'));
        return;
      }
      const text = data.toString('utf8');
      if (text === 'pause') return term?.pause();
      if (text === 'resume') return term?.resume();
      if (term) return;
      const { cols, rows } = JSON.parse(text) as { cols: number; rows: number };
      // encoding null: the pty's bytes as they are, like the SSH channel's in the app.
      const t = pty.spawn(file, args, { name: 'xterm-256color', cols, rows, encoding: null });
      term = t;
      terms.add(t);
      t.onData((chunk) => {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        for (const part of splitForFrames(bytes)) ws.send(encodeTerminalFrame(TerminalFrameKind.output, 't1', part));
      });
      t.onExit(() => ws.close());
    });
    ws.on('close', () => term?.kill());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the baseline server has no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    async close() {
      for (const t of terms) t.kill();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise((r) => server.close(r));
    },
  };
}
