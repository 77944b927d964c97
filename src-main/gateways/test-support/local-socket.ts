// Plain TCP helpers for tests that talk to a gateway's local listener the way a database client
// would: connect to 127.0.0.1, read text until a marker or until the gateway closes.
import * as net from 'node:net';

/** A connected socket to the local listener on `port`. */
export function connectLocal(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the server sent until it closed (bounded by the test's own timeout). */
export function readAll(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString()));
    s.once('close', () => resolve(text));
  });
}

/** The text received up to and including `until`; rejects, with what came, if the socket closes first. */
export function readText(s: net.Socket, until: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer) => {
      text += c.toString();
      if (text.includes(until)) {
        s.off('data', onData);
        resolve(text);
      }
    };
    s.on('data', onData);
    s.once('close', () => reject(new Error(`closed before "${until}"; got "${text}"`)));
  });
}
