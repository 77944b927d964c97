// How every cluster listener (auth API, proxy, db service, app service) starts: bind, log where,
// and say where. One copy, so each reports a bind failure (EADDRINUSE, EACCES) the same way: as
// the rejected start(), never as an 'error' event after start() has resolved.
import type net from 'node:net';
import type { Logger } from '../log/logger.ts';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Binds `server` on host:port (port 0: the OS picks), logs "`what` listening" with the address. */
export async function listenAndLog(
  server: net.Server,
  at: { host: string; port: number },
  log: Logger,
  what: string,
): Promise<ListenAddress> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;
  log.info(`${what} listening`, { address: `${addr.address}:${addr.port}` });
  return { host: addr.address, port: addr.port };
}
