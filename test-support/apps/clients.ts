// Test-only: the real clients the app-access tests drive — curl (spawned, asynchronously: the
// header-echo upstream runs in the test's own process, so a blocking spawnSync would starve it)
// and a WebSocket client from the `ws` package.
import { spawn } from 'node:child_process';
import { WebSocket } from 'ws';

export interface CurlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

const CURL_TIMEOUT_S = 60;

/** curl -sS --max-time 60 ARGS; `input` goes to its stdin (for --data-binary @-). */
export function curl(args: string[], input?: string | Buffer): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '--max-time', String(CURL_TIMEOUT_S), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** curl's `-w` line after the body: status code, bytes downloaded and connections opened. */
export const CURL_STATS = '\n%{http_code} %{size_download} %{num_connects}\n';

/** The figures of each `-w CURL_STATS` line in curl's output, one per URL fetched. */
export function curlStats(stdout: string): { code: number; bytes: number; connects: number }[] {
  return (stdout.match(/^\d{3} \d+ \d+$/gm) ?? []).map((line) => {
    const [code, bytes, connects] = line.split(' ').map(Number);
    return { code: code!, bytes: bytes!, connects: connects! };
  });
}

/** Opens a WebSocket; resolves once open (rejects with the handshake's failure, e.g. an HTTP 403). */
export function openWebSocket(url: string, timeoutMs = 15_000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`WebSocket handshake answered HTTP ${res.statusCode}`)),
    );
    ws.once('error', reject);
  });
}

/** Sends `message` and resolves with the next message received. */
export function echoOnce(ws: WebSocket, message: string | Buffer, timeoutMs = 15_000): Promise<string | Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no WebSocket echo within time')), timeoutMs);
    ws.once('message', (data: Buffer, isBinary: boolean) => {
      clearTimeout(timer);
      resolve(isBinary ? data : data.toString());
    });
    ws.send(message);
  });
}

/** Resolves with the close code once the WebSocket is closed (by either side, or torn down). */
export function closed(ws: WebSocket): Promise<number> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve(1006);
  return new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
}
