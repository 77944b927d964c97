// SSH wire encoding (RFC 4251 §5): the primitives keys, signatures and certificates are built from.
// The reader never trusts a length field: every read is bounds-checked, and a failure is a
// GatehouseError whose code the caller picks (a broken certificate is CERT_INVALID, a broken
// request body is BAD_REQUEST), so the message reaches the user with the right meaning.
import { GatehouseError, ErrorCode } from '../errors.ts';

const UINT32_MAX = 0xffffffff;
const UINT64_MAX = 0xffffffffffffffffn;

export interface SshReaderOptions {
  /** Error code thrown on malformed data. Default BAD_REQUEST. */
  code?: ErrorCode;
  /** What is being read, for messages: "certificate", "public key", ... */
  what?: string;
}

export class SshReader {
  private readonly buf: Buffer;
  private pos = 0;
  private readonly code: ErrorCode;
  private readonly what: string;

  constructor(buf: Buffer, opts: SshReaderOptions = {}) {
    this.buf = buf;
    this.code = opts.code ?? ErrorCode.BAD_REQUEST;
    this.what = opts.what ?? 'SSH data';
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  fail(message: string): never {
    throw new GatehouseError(this.code, `malformed ${this.what}: ${message}`);
  }

  private need(n: number, field: string): void {
    if (this.buf.length - this.pos < n) {
      this.fail(`truncated while reading ${field} at byte ${this.pos} (need ${n}, have ${this.remaining})`);
    }
  }

  uint32(field = 'uint32'): number {
    this.need(4, field);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint64(field = 'uint64'): bigint {
    this.need(8, field);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  bool(field = 'boolean'): boolean {
    this.need(1, field);
    return this.buf[this.pos++] !== 0;
  }

  /** A length-prefixed byte string. The result shares memory with the input. */
  string(field = 'string'): Buffer {
    const len = this.uint32(`${field} length`);
    this.need(len, field);
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  /** A string that must be valid UTF-8 (names, key ids, principals). */
  text(field = 'text'): string {
    const raw = this.string(field);
    const s = raw.toString('utf8');
    if (!Buffer.from(s, 'utf8').equals(raw)) this.fail(`${field} is not valid UTF-8`);
    return s;
  }

  /** A non-negative mpint as its magnitude bytes (big-endian, no leading zero bytes). */
  mpintBytes(field = 'mpint'): Buffer {
    const raw = this.string(field);
    if (raw.length > 0 && raw[0]! & 0x80) this.fail(`${field} is negative`);
    // RFC 4251: no unnecessary leading zero bytes; OpenSSH rejects them too.
    if (raw.length > 1 && raw[0] === 0 && !(raw[1]! & 0x80)) this.fail(`${field} has a superfluous leading zero`);
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    return raw.subarray(start);
  }

  mpint(field = 'mpint'): bigint {
    const mag = this.mpintBytes(field);
    return mag.length === 0 ? 0n : BigInt('0x' + mag.toString('hex'));
  }

  nameList(field = 'name-list'): string[] {
    const s = this.text(field);
    if (s === '') return [];
    const names = s.split(',');
    if (names.some((n) => n === '')) this.fail(`${field} has an empty name`);
    return names;
  }

  /** Everything not read yet. */
  rest(): Buffer {
    const v = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return v;
  }

  /** Trailing bytes after a structure usually mean it was not what we thought it was. */
  end(): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} unexpected trailing byte(s)`);
  }
}

/** Accumulates SSH-encoded fields; every method returns `this` for chaining. */
export class SshWriter {
  private readonly parts: Buffer[] = [];

  uint32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > UINT32_MAX) throw new RangeError(`uint32 out of range: ${v}`);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
    return this;
  }

  uint64(v: bigint): this {
    if (v < 0n || v > UINT64_MAX) throw new RangeError(`uint64 out of range: ${v}`);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    this.parts.push(b);
    return this;
  }

  bool(v: boolean): this {
    this.parts.push(Buffer.from([v ? 1 : 0]));
    return this;
  }

  string(v: Buffer | Uint8Array | string): this {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    this.uint32(b.length);
    this.parts.push(b);
    return this;
  }

  /** A non-negative mpint from a bigint or from unsigned big-endian magnitude bytes. */
  mpint(v: bigint | Buffer): this {
    return this.string(encodeMpint(v));
  }

  nameList(names: readonly string[]): this {
    for (const n of names) {
      if (n === '' || n.includes(',')) throw new RangeError(`invalid name in name-list: "${n}"`);
    }
    return this.string(names.join(','));
  }

  raw(v: Buffer): this {
    this.parts.push(v);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** The body of an mpint (without its length prefix): minimal two's complement, positive only. */
export function encodeMpint(v: bigint | Buffer): Buffer {
  let mag: Buffer;
  if (typeof v === 'bigint') {
    if (v < 0n) throw new RangeError('negative mpint is not supported');
    if (v === 0n) return Buffer.alloc(0);
    let hex = v.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    mag = Buffer.from(hex, 'hex');
  } else {
    let start = 0;
    while (start < v.length && v[start] === 0) start++;
    mag = v.subarray(start);
    if (mag.length === 0) return Buffer.alloc(0);
  }
  // A set high bit would read as negative: prepend a zero byte.
  return mag[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), mag]) : Buffer.from(mag);
}

/** Reads only the leading type string of a key, signature or certificate blob. */
export function peekTypeName(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len > 256 || blob.length < 4 + len) return undefined;
  return blob.subarray(4, 4 + len).toString('latin1');
}
