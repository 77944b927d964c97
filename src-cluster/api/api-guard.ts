// The cluster API's Node handler (in place of connectNodeAdapter) with the body limits an
// unauthenticated client meets: a per-RPC byte cap checked against Content-Length before any
// byte is read and counted while reading (never buffering more than the cap), unary protobuf
// bodies decoded up front so garbage is invalid_argument rather than Connect's 500 "internal",
// and the field limits of field-limits.ts on every message.
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { fromBinary } from '@bufbuild/protobuf';
import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ContextValues } from '@connectrpc/connect';
import { createAsyncIterable, type UniversalHandler, type UniversalServerRequest } from '@connectrpc/connect/protocol';
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { toConnectError } from './errors.ts';
import { peerKey } from './peer.ts';
import type { Logger } from '../log/logger.ts';
import { fieldLimitInterceptor } from './field-limits.ts';
import {
  API_READ_MAX_BYTES,
  CEREMONY_MESSAGE_MAX_BYTES,
  CEREMONY_STREAM_MAX_BYTES,
  LOGIN_CHALLENGE_ANSWER_METHOD,
  UNAUTHENTICATED_METHODS,
  UNAUTHENTICATED_READ_MAX_BYTES,
} from '../limits/limits.ts';

export interface GuardedApiOptions {
  routes: (router: ConnectRouter) => void;
  contextValues: (req: Http2ServerRequest) => ContextValues;
  logger: Logger;
}

type NodeHandler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

/** The byte cap of one call: the whole body of a unary call, the whole request stream of a stream. */
export function bodyLimitFor(h: Pick<UniversalHandler, 'service' | 'method'>): number {
  const method = `${h.service.typeName}/${h.method.name}`;
  if (UNAUTHENTICATED_METHODS.has(method)) return UNAUTHENTICATED_READ_MAX_BYTES;
  if (method === LOGIN_CHALLENGE_ANSWER_METHOD) return CEREMONY_MESSAGE_MAX_BYTES;
  if (h.method.methodKind !== 'unary') return CEREMONY_STREAM_MAX_BYTES;
  return API_READ_MAX_BYTES;
}

export function createGuardedApiHandler(opts: GuardedApiOptions): NodeHandler {
  const router = createConnectRouter({
    // Only the Connect protocol: it is all our clients speak, and each further protocol is
    // another parser an unauthenticated client can reach.
    grpc: false,
    grpcWeb: false,
    // Per message; the per-call caps below are tighter where they apply.
    readMaxBytes: Math.max(API_READ_MAX_BYTES, CEREMONY_MESSAGE_MAX_BYTES),
    // No request decompression: a small compressed body must not become a large one here.
    acceptCompression: [],
    interceptors: [fieldLimitInterceptor()],
  });
  opts.routes(router);
  const log = opts.logger;
  const paths = new Map(router.handlers.map((h) => [h.requestPath, guard(h, log)]));
  return (req, res) => {
    const handler = paths.get(req.url?.split('?', 2)[0] ?? '');
    if (!handler) {
      res.writeHead(404);
      res.end();
      return;
    }
    const uReq = universalRequestFromNodeRequest(req, res, undefined, opts.contextValues(req));
    handler(uReq)
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        log.error('API handler failed', {
          rpc: `${handler.service.typeName}/${handler.method.name}`,
          error: String(reason),
        });
      });
  };
}

function guard(h: UniversalHandler, log: Logger): UniversalHandler {
  const limit = bodyLimitFor(h);
  const rpc = `${h.service.typeName}/${h.method.name}`;
  const refuse = (req: UniversalServerRequest, err: GatehouseError): UniversalServerRequest => {
    log.warn('API request refused', {
      rpc,
      client: req.contextValues?.get(peerKey).address,
      code: err.code,
      reason: err.message,
    });
    return failingRequest(req, toConnectError(err));
  };
  const guarded = async (req: UniversalServerRequest) => {
    if (!isByteStream(req.body) || req.method !== 'POST') return h(req);
    const declared = Number(req.header.get('content-length') ?? NaN);
    if (declared > limit) return h(refuse(req, tooLarge(rpc, `${declared} bytes`, limit)));
    if (h.method.methodKind !== 'unary') return h({ ...req, body: capped(req.body, limit, rpc, log, req) });
    const body = await readCapped(req.body, limit);
    if (body === undefined) return h(refuse(req, tooLarge(rpc, `more than ${limit} bytes`, limit)));
    if (isBinary(req.header.get('content-type'))) {
      try {
        fromBinary(h.method.input, body);
      } catch (e) {
        const why = `request body is not a valid ${h.method.input.typeName} message: ${(e as Error).message}`;
        return h(refuse(req, new GatehouseError(ErrorCode.BAD_REQUEST, why)));
      }
    }
    return h({ ...req, body: createAsyncIterable([body]) });
  };
  return Object.assign(guarded, {
    service: h.service,
    method: h.method,
    requestPath: h.requestPath,
    supportedContentType: h.supportedContentType,
    protocolNames: h.protocolNames,
    allowedMethods: h.allowedMethods,
  });
}

function tooLarge(rpc: string, size: string, limit: number): GatehouseError {
  return new GatehouseError(
    ErrorCode.REQUEST_TOO_LARGE,
    `request body too large for ${rpc}: ${size}, at most ${limit} bytes allowed`,
    { maxBytes: limit },
  );
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

function isBinary(contentType: string | null): boolean {
  return /^application\/proto\s*(;|$)/i.test(contentType ?? '');
}

/**
 * Reads at most `limit` bytes; undefined when the body is longer. It pulls chunk by chunk and
 * stops pulling once over, without cancelling the stream: the refusal still goes out on it, and
 * HTTP/2 flow control stops the sender after one window.
 */
async function readCapped(body: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array | undefined> {
  const it = body[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const next = await it.next();
    if (next.done) break;
    total += next.value.byteLength;
    if (total > limit) return undefined;
    chunks.push(next.value);
  }
  return Buffer.concat(chunks, total);
}

/** Passes a stream's bytes through until the call has sent more than `limit`, then fails it. */
async function* capped(
  body: AsyncIterable<Uint8Array>,
  limit: number,
  rpc: string,
  log: Logger,
  req: UniversalServerRequest,
): AsyncIterable<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  let total = 0;
  for (;;) {
    const next = await it.next();
    if (next.done) return;
    total += next.value.byteLength;
    if (total > limit) {
      const err = tooLarge(rpc, `more than ${limit} bytes`, limit);
      log.warn('API request refused', {
        rpc,
        client: req.contextValues?.get(peerKey).address,
        code: err.code,
        reason: err.message,
      });
      throw toConnectError(err);
    }
    yield next.value;
  }
}

/** The same request with a body that fails with `err`: Connect answers it in its own format. */
function failingRequest(req: UniversalServerRequest, err: ConnectError): UniversalServerRequest {
  const header = new Headers(req.header);
  // Connect checks Content-Length itself first and would answer with its own error, without our code.
  header.delete('content-length');
  const body: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }),
  };
  return { ...req, header, body };
}
