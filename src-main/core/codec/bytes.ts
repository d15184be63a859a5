/**
 * Growable byte writer and bounds-checked byte reader (little endian, LEB128 varints).
 * Every read past the end throws FieldpackError('BAD_STREAM') naming what was being read.
 */
import { FieldpackError } from '../errors.ts';

const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });

/** Bytes ByteWriter.varint writes for v (>= 0). */
export function varintBytes(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  constructor(initial = 1024) {
    this.buf = new Uint8Array(Math.max(16, initial));
    this.view = new DataView(this.buf.buffer);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }
  f32(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
  /** Unsigned varint for integers up to 2^53. */
  varint(v: number): void {
    if (!(v >= 0) || !Number.isSafeInteger(v)) throw new FieldpackError('INTERNAL', `varint out of range: ${v}`);
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  /** Signed varint (zigzag). */
  svarint(v: number): void {
    this.varint(v < 0 ? -2 * v - 1 : 2 * v);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** varint length + bytes */
  block(b: Uint8Array): void {
    this.varint(b.length);
    this.bytes(b);
  }
  string(s: string): void {
    this.block(te.encode(s));
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class ByteReader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly end: number;
  /** What is being read, for error messages ("header", "chunk 3"). */
  readonly what: string;
  constructor(buf: Uint8Array, what: string, start = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
    this.what = what;
  }
  need(n: number, field: string): void {
    if (this.pos + n > this.end) {
      throw new FieldpackError('BAD_STREAM', `truncated stream: ${this.what} ends before ${field} (needs ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left)`);
    }
  }
  remaining(): number {
    return this.end - this.pos;
  }
  u8(field = 'byte'): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }
  u16(field = 'u16'): number {
    this.need(2, field);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(field = 'u32'): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f32(field = 'f32'): number {
    this.need(4, field);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(field = 'f64'): number {
    this.need(8, field);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  varint(field = 'varint'): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8(field);
      v += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (!Number.isSafeInteger(v)) break;
        return v;
      }
      mul *= 128;
    }
    throw new FieldpackError('BAD_STREAM', `corrupted stream: bad varint for ${field} in ${this.what}`);
  }
  svarint(field = 'svarint'): number {
    const z = this.varint(field);
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  }
  bytes(n: number, field = 'bytes'): Uint8Array {
    this.need(n, field);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  block(field = 'block'): Uint8Array {
    const n = this.varint(field + ' length');
    return this.bytes(n, field);
  }
  string(field = 'string'): string {
    const b = this.block(field);
    try {
      return td.decode(b);
    } catch {
      throw new FieldpackError('BAD_STREAM', `corrupted stream: ${field} in ${this.what} is not UTF-8`);
    }
  }
}
