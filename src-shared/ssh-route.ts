// The one-line JSON handshake in front of an SSH stream through the proxy. The client names
// the node; the proxy answers ok or a coded error before any SSH byte flows, so refusals reach
// the user as words ("node not found") instead of a broken SSH handshake.
// Pure stream helpers: the proxy (src-cluster) and the client core (src-main) both use them.
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { ErrorCode, GatehouseError, type ErrorCode as Code } from './errors.ts';

const MAX_HEADER = 4096;

export const SshRouteRequestSchema = z.object({ node: z.string().min(1).max(253) });
export type SshRouteRequest = z.infer<typeof SshRouteRequestSchema>;
export type SshRouteReply = { ok: true } | { ok: false; code: Code; message: string };

const SshRouteReplySchema = z.union([
  z.object({ ok: z.literal(true) }),
  // A newer proxy may send a code this client does not know: keep its message, code it INTERNAL.
  z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
]);

export interface LineErrors {
  code: Code;
  closed: string;
  timeout: string;
  tooLong: string;
}

const HEADER_ERRORS: LineErrors = {
  code: ErrorCode.BAD_REQUEST,
  closed: 'connection closed before the routing header',
  timeout: 'no routing header in time',
  tooLong: 'routing header too long',
};

// A proxy that hangs up or stalls mid-handshake is, for the user, a proxy they cannot use.
const REPLY_ERRORS: LineErrors = {
  code: ErrorCode.PROXY_UNREACHABLE,
  closed: 'the proxy closed the connection before answering the routing request',
  timeout: 'the proxy did not answer the routing request in time',
  tooLong: 'the proxy answered the routing request with an overlong line',
};

/** Reads one '\n'-terminated JSON line, leaving any bytes after it unread in the stream. */
export function readLine(
  stream: Duplex,
  timeoutMs = 10_000,
  errors: LineErrors = HEADER_ERRORS,
  maxBytes = MAX_HEADER,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err?: Error, line?: string) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onEnd);
      if (err) reject(err);
      else resolve(line!);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      // A whole overlong line in one chunk is as overlong as one spread over many.
      if (nl > maxBytes || (nl < 0 && buf.length > maxBytes)) {
        done(new GatehouseError(errors.code, errors.tooLong));
      } else if (nl >= 0) {
        stream.pause();
        const rest = buf.subarray(nl + 1);
        if (rest.length > 0) stream.unshift(rest);
        done(undefined, buf.subarray(0, nl).toString('utf8'));
      }
    };
    const onEnd = () => done(new GatehouseError(errors.code, errors.closed));
    const timer = setTimeout(() => done(new GatehouseError(errors.code, errors.timeout)), timeoutMs);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onEnd);
  });
}

export async function readHeaderLine(stream: Duplex): Promise<SshRouteRequest> {
  const line = await readLine(stream);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'routing header is not JSON');
  }
  const r = SshRouteRequestSchema.safeParse(parsed);
  if (!r.success) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'routing header must name a node');
  return r.data;
}

export function writeHeaderLine(stream: Duplex, msg: SshRouteRequest | SshRouteReply): void {
  stream.write(JSON.stringify(msg) + '\n');
}

/** Client side: the proxy's answer, as a coded error when it refused. */
export async function readReply(stream: Duplex, timeoutMs?: number): Promise<void> {
  const line = await readLine(stream, timeoutMs, REPLY_ERRORS);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new GatehouseError(
      ErrorCode.INTERNAL,
      'the proxy answered the routing request with something that is not JSON',
    );
  }
  const r = SshRouteReplySchema.safeParse(parsed);
  if (!r.success)
    throw new GatehouseError(ErrorCode.INTERNAL, 'the proxy answered the routing request in an unknown format');
  if (!r.data.ok) {
    const known = (Object.values(ErrorCode) as string[]).includes(r.data.code);
    throw new GatehouseError(known ? (r.data.code as Code) : ErrorCode.INTERNAL, r.data.message);
  }
}
