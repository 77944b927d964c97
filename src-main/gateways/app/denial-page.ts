// The answer an HTTP app's local connection gets when its route was refused (device not trusted,
// role denial, lock, login expired, proxy unreachable): the browser or curl already sent its
// request, so it gets a real HTTP response — the page from src-shared/app-pages.ts, HTML for a
// browser and text/plain for curl, with the refusal's own words — rather than a reset it would
// show as "connection failed". node:http parses the request(s); every one gets the page, and the
// response's `Connection: close` ends the connection (the next attempt dials afresh, so a device
// enrolled meanwhile or a new login takes effect on reload).
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { appDenialResponse } from '../../../src-shared/app-pages.ts';
import type { GatehouseError } from '../../../src-shared/errors.ts';

/** A refused connection may take this long to send its request before it is closed. */
export const DENIAL_REQUEST_TIMEOUT_MS = 10_000;

export class HttpDenialPages {
  private readonly refusals = new WeakMap<Socket, GatehouseError>();
  private readonly server: http.Server;

  constructor(timeoutMs = DENIAL_REQUEST_TIMEOUT_MS) {
    this.server = http.createServer(
      { requestTimeout: timeoutMs, headersTimeout: timeoutMs, keepAliveTimeout: 0 },
      (req, res) => {
        const error = this.refusals.get(req.socket as Socket);
        if (!error) {
          res.destroy(); // not a socket handed over by answer(): nothing to say
          return;
        }
        const page = appDenialResponse(error.code, error.message, req.headers.accept);
        res.writeHead(page.status, { ...page.headers, 'content-length': Buffer.byteLength(page.body) });
        res.end(page.body);
      },
    );
    // A client that sends garbage or hangs: the connection just ends.
    this.server.on('clientError', (_e, socket) => socket.destroy());
    this.server.setTimeout(timeoutMs, (socket) => socket.destroy());
  }

  /** Answers every request on `local` with the page for `error`, then closes it. */
  answer(local: Socket, error: GatehouseError): void {
    this.refusals.set(local, error);
    this.server.emit('connection', local);
    // The gateway accepted the socket paused (pauseOnConnect); node:http does not resume it.
    local.resume();
  }
}
