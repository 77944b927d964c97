// Bounds on every string (and repeated/map field) of every API request, checked on the decoded
// message before any service code sees it. One walker over the message schema, so a field added
// to a .proto later is bounded too (by STRING_MAX_BYTES unless FIELD_MAX_BYTES names it).
import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { toConnectError } from './errors.ts';
import { FIELD_MAX_BYTES, REPEATED_MAX_ITEMS, STRING_MAX_BYTES } from '../limits/limits.ts';

type Msg = Record<string, unknown>;

function tooLong(path: string, bytes: number, max: number): GatehouseError {
  return new GatehouseError(
    ErrorCode.BAD_REQUEST,
    `request field "${path}" is too long: ${bytes} bytes, at most ${max} allowed`,
    { field: path, bytes, maxBytes: max },
  );
}

function checkString(path: string, fieldName: string, value: unknown): void {
  if (typeof value !== 'string') return;
  const max = FIELD_MAX_BYTES[fieldName] ?? STRING_MAX_BYTES;
  // Cheap first: a UTF-8 string is at least as many bytes as UTF-16 units.
  if (value.length <= max / 3) return;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > max) throw tooLong(path, bytes, max);
}

function checkCount(path: string, count: number): void {
  if (count > REPEATED_MAX_ITEMS) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `request field "${path}" has too many entries: ${count}, at most ${REPEATED_MAX_ITEMS} allowed`,
      { field: path, count, maxItems: REPEATED_MAX_ITEMS },
    );
  }
}

function valueOf(field: DescField, msg: Msg): unknown {
  if (!field.oneof) return msg[field.localName];
  const o = msg[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return o?.case === field.localName ? o.value : undefined;
}

function checkField(field: DescField, value: unknown, path: string): void {
  switch (field.fieldKind) {
    case 'scalar':
      if (field.scalar === ScalarType.STRING) checkString(path, field.name, value);
      return;
    case 'message':
      if (value) checkMessageFields(field.message, value as Msg, path);
      return;
    case 'list': {
      const items = (value ?? []) as unknown[];
      checkCount(path, items.length);
      items.forEach((item, i) => {
        if (field.listKind === 'scalar' && field.scalar === ScalarType.STRING)
          checkString(`${path}[${i}]`, field.name, item);
        if (field.listKind === 'message') checkMessageFields(field.message, item as Msg, `${path}[${i}]`);
      });
      return;
    }
    case 'map': {
      const entries = Object.entries((value ?? {}) as Msg);
      checkCount(path, entries.length);
      for (const [key, item] of entries) {
        if (field.mapKey === ScalarType.STRING) checkString(`${path} key`, field.name, key);
        if (field.mapKind === 'scalar' && field.scalar === ScalarType.STRING)
          checkString(`${path}[${key.slice(0, 64)}]`, field.name, item);
        if (field.mapKind === 'message') checkMessageFields(field.message, item as Msg, `${path}[${key.slice(0, 64)}]`);
      }
      return;
    }
    case 'enum':
      return;
  }
}

/** Throws a BAD_REQUEST GatehouseError naming the first field over its limit. */
export function checkMessageFields(desc: DescMessage, msg: Msg, path = ''): void {
  for (const field of desc.fields) {
    checkField(field, valueOf(field, msg), path ? `${path}.${field.name}` : field.name);
  }
}

/**
 * Connect reports a request message it cannot decode as `internal` ("parse binary: …"); for the
 * caller that is bad input, so it becomes invalid_argument. (Unary bodies are decoded earlier, in
 * api-guard.ts; this covers the messages of streams, which Connect decodes as they arrive.)
 */
function asInvalidArgument(e: unknown): unknown {
  if (e instanceof ConnectError && e.code === Code.Internal && e.rawMessage.startsWith('parse binary')) {
    return toConnectError(new GatehouseError(ErrorCode.BAD_REQUEST, `undecodable request message: ${e.rawMessage}`));
  }
  return e;
}

async function* checkedStream(desc: DescMessage, messages: AsyncIterable<unknown>): AsyncIterable<unknown> {
  const it = messages[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<unknown>;
    try {
      next = await it.next();
    } catch (e) {
      throw asInvalidArgument(e);
    }
    if (next.done) return;
    try {
      checkMessageFields(desc, next.value as Msg);
    } catch (e) {
      throw toConnectError(e);
    }
    yield next.value;
  }
}

/** Server interceptor: every request message passes checkMessageFields before the service runs. */
export function fieldLimitInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      try {
        checkMessageFields(req.method.input, req.message as Msg);
      } catch (e) {
        throw toConnectError(e);
      }
      return next(req);
    }
    return next({ ...req, message: checkedStream(req.method.input, req.message) as typeof req.message });
  };
}
