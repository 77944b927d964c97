// The patched ssh2 client as a test driver: one connection, many channels on it (what a
// multiplexing client does), each channel's output and end collected.
import { readFileSync } from 'node:fs';
import { Client, type ClientChannel } from 'ssh2';

export interface Ssh2Connection {
  client: Client;
  /** Resolves when the connection has closed (by either side). */
  closed: Promise<void>;
  /** Opens a session channel and runs `command`; rejects with the server's refusal. */
  exec(command: string, opts?: { pty?: PtyWindow }): Promise<ClientChannel>;
  /** Opens a session channel with a PTY and a login shell. */
  shell(window: PtyWindow): Promise<ClientChannel>;
}

export interface PtyWindow {
  rows: number;
  cols: number;
  term: string;
}

export function connectSsh2(port: number, username: string, key: string, cert: string): Promise<Ssh2Connection> {
  const client = new Client();
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    client.once('error', reject);
    client.once('ready', () => {
      client.on('error', () => undefined);
      resolve({
        client,
        closed,
        exec: (command, opts) =>
          new Promise((res, rej) => client.exec(command, opts ?? {}, (err, ch) => (err ? rej(err) : res(ch)))),
        shell: (window) => new Promise((res, rej) => client.shell(window, (err, ch) => (err ? rej(err) : res(ch)))),
      });
    });
    client.connect({
      host: '127.0.0.1',
      port,
      username,
      privateKey: readFileSync(key),
      certificate: readFileSync(cert, 'utf8'),
      readyTimeout: 10_000,
    });
  });
}

export interface ChannelResult {
  stdout: string;
  stderr: string;
  code?: number;
  signal?: string;
}

/** Collects a channel's output until it closes. */
export function drainChannel(ch: ClientChannel): Promise<ChannelResult> {
  const r: ChannelResult = { stdout: '', stderr: '' };
  ch.on('data', (d: Buffer) => (r.stdout += d.toString()));
  ch.stderr.on('data', (d: Buffer) => (r.stderr += d.toString()));
  ch.on('exit', (c: number | null, s?: string) => {
    if (c !== null) r.code = c;
    else r.signal = s;
  });
  return new Promise((resolve) => ch.on('close', () => resolve(r)));
}

/** The refusal text of a channel open that was expected to fail. */
export async function refusal(open: Promise<ClientChannel>): Promise<string> {
  try {
    const ch = await open;
    ch.close();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the session channel was accepted; it should have been refused');
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
