// The page of the terminal throughput baseline (bench/xterm-baseline.ts): the same xterm build,
// options, cursor blink and output pump the app's renderer uses, fed by a minimal WebSocket to a node-pty
// running stock `ssh -tt`, with the same binary frames. Only Gatehouse's parts (host, bridge,
// proxy, node) are missing, so the app/baseline ratio is what they cost. Bundled by esbuild.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { createOutputPump } from '../src-renderer/ui/terminal-output.ts';
import { XTERM_OPTIONS, attachCursorBlink } from '../src-renderer/ui/xterm-session.ts';
import { TerminalFrameKind, decodeTerminalFrame, encodeTerminalFrame } from '../src-shared/terminal-frame.ts';

const host = document.getElementById('terminal')!;
// ?blink=css: xterm's own blink (an endless CSS animation), as the app had it before cursor-blink.ts;
// bench/app-keystroke.ts times both in one run.
const cssBlink = new URLSearchParams(location.search).get('blink') === 'css';
const term = new Terminal({ ...XTERM_OPTIONS, cursorBlink: cssBlink });
const fit = new FitAddon();
term.loadAddon(fit);
term.open(host);
fit.fit();

const ws = new WebSocket(`ws://${location.host}/pty`);
ws.binaryType = 'arraybuffer';
const utf8 = new TextEncoder();
const pump = createOutputPump(
  { write: (data, parsed) => term.write(data, parsed) },
  // Parsed-byte reports are the app's in-flight bound (terminal-session.ts); this baseline is the
  // xterm path with its watermarks alone, as stock ssh behind a plain pty bridge has.
  { pause: () => ws.send('pause'), resume: () => ws.send('resume'), parsed: () => {} },
  { request: (cb) => requestAnimationFrame(cb), cancel: (h) => cancelAnimationFrame(h) },
);
ws.addEventListener('open', () => ws.send(JSON.stringify({ cols: term.cols, rows: term.rows })));
ws.addEventListener('message', (event: MessageEvent) => {
  if (event.data instanceof ArrayBuffer) {
    pump.push(decodeTerminalFrame(new Uint8Array(event.data), TerminalFrameKind.output).data);
  }
});
term.onData((data) => ws.send(encodeTerminalFrame(TerminalFrameKind.input, 't1', utf8.encode(data))));
if (!cssBlink) attachCursorBlink(term, host);
term.focus();
