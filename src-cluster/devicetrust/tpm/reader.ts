// Bounds-checked big-endian reader for TPM wire structures. Input comes from clients, so every
// read names the structure and field it was reading when the bytes ran out: a truncated or padded
// blob must fail with a clear error, never read past the end or silently ignore trailing bytes.
import { attestationError } from './errors.ts';

export class TpmReader {
  private off = 0;
  constructor(
    readonly buf: Buffer,
    /** The structure being parsed, for error messages (e.g. "TPMS_ATTEST"). */
    readonly what: string,
  ) {}

  get offset(): number {
    return this.off;
  }

  get remaining(): number {
    return this.buf.length - this.off;
  }

  private need(n: number, field: string): void {
    if (this.off + n > this.buf.length) {
      throw attestationError(
        'malformed',
        `malformed ${this.what}: truncated at ${field} (needs ${n} bytes at offset ${this.off}, ${this.remaining} left)`,
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf.readUInt8(this.off++);
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const v = this.buf.readBigUInt64BE(this.off);
    this.off += 8;
    return v;
  }

  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const v = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    return v;
  }

  /** A TPM2B: u16 size then that many bytes; `max` guards against sizes the type cannot have. */
  tpm2b(field: string, max = 0xffff): Buffer {
    const size = this.u16(`${field}.size`);
    if (size > max) {
      throw attestationError('malformed', `malformed ${this.what}: ${field} is ${size} bytes (at most ${max})`);
    }
    return this.bytes(size, field);
  }

  /** Throws when bytes are left over: a structure followed by junk is not the structure that was signed. */
  end(): void {
    if (this.remaining !== 0) {
      throw attestationError('malformed', `malformed ${this.what}: ${this.remaining} unexpected trailing bytes`);
    }
  }
}

/** Big-endian marshalling helpers for the structures we build (MakeCredential output). */
export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

export function tpm2b(data: Buffer): Buffer {
  if (data.length > 0xffff) throw new Error(`TPM2B too large: ${data.length} bytes`);
  return Buffer.concat([u16(data.length), data]);
}
