/**
 * The header of a NetCDF classic-model file, all three versions in one parser: CDF-1 (classic), CDF-2 (64-bit offset)
 * and CDF-5 (64-bit data: PnetCDF's and so E3SM's default, with the unsigned and 64-bit integer types). The grammar
 * is NetCDF's "classic format specification": CDF-5 widens every count, length and dimension id to 8 bytes.
 * Running out of bytes throws a RangeError (the caller reads more of the file, or calls it truncated); anything else
 * wrong throws a TypeError naming it.
 */

import { isNetcdf3 } from '../../files/magic.ts';

export type NcType = 'byte' | 'char' | 'short' | 'int' | 'float' | 'double' | 'ubyte' | 'ushort' | 'uint' | 'int64' | 'uint64';

/** nc_type codes 1..11 */
const TYPES: readonly NcType[] = ['byte', 'char', 'short', 'int', 'float', 'double', 'ubyte', 'ushort', 'uint', 'int64', 'uint64'];
/** bytes per value of each type */
export const NC_TYPE_SIZE: Record<NcType, number> = { byte: 1, char: 1, short: 2, int: 4, float: 4, double: 8, ubyte: 1, ushort: 2, uint: 4, int64: 8, uint64: 8 };

const NC_DIMENSION = 10;
const NC_VARIABLE = 11;
const NC_ATTRIBUTE = 12;

export interface NcAttr {
  name: string;
  type: NcType;
  /** numbers, or the text of a char attribute (trailing NULs dropped) */
  value: number[] | string;
}

export interface NcVar {
  name: string;
  /** dimension ids */
  dimensions: number[];
  attributes: NcAttr[];
  type: NcType;
  /** file offset of the first value (of the first record, for a record variable) */
  offset: number;
  /** whether its first dimension is the record (unlimited) one */
  record: boolean;
}

export interface NcHeader {
  version: 1 | 2 | 5;
  /** records written; null where the file says "streaming" (not counted in the header) */
  numRecs: number | null;
  dimensions: { name: string; size: number }[];
  /** the record dimension's id (declared with size 0), if any */
  recordDimId: number | undefined;
  globalAttributes: NcAttr[];
  variables: NcVar[];
}

const utf8 = new TextDecoder('utf-8');

class Cursor {
  private pos = 0;
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    /** CDF-5: counts, lengths and ids are 8 bytes */
    private readonly wide: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): number {
    if (this.pos + n > this.bytes.length) throw new RangeError(`the header runs past byte ${this.bytes.length}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u32(): number {
    return this.view.getUint32(this.need(4), false);
  }

  /** an unsigned 64-bit integer, refused past 2^53 (no file or count is that large) */
  u64(what: string): number {
    const at = this.need(8);
    const hi = this.view.getUint32(at, false);
    const lo = this.view.getUint32(at + 4, false);
    if (hi >= 2 ** 21) throw new TypeError(`${what} ${hi === 0xffffffff && lo === 0xffffffff ? 'is -1' : 'is past 2^53'}`);
    return hi * 2 ** 32 + lo;
  }

  /** NON_NEG: a count, length or id (4 bytes, or 8 in CDF-5) */
  count(what: string): number {
    return this.wide ? this.u64(what) : this.u32();
  }

  bytesOf(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }

  /** to the next 4-byte boundary */
  pad(): void {
    const r = this.pos % 4;
    if (r) this.need(4 - r);
  }

  name(): string {
    const n = this.count('a name length');
    const s = utf8.decode(this.bytesOf(n));
    this.pad();
    return s;
  }

  type(where: string): NcType {
    const t = this.u32();
    const type = TYPES[t - 1];
    if (!type) throw new TypeError(`${where} has type ${t} (nc_type 1-11)`);
    return type;
  }

  /** a list's tag and length: the length, or 0 for an absent list (tag and count zero) */
  list(tag: number, what: string): number {
    const t = this.u32();
    const n = this.count(`the length of ${what}`);
    if (t === 0 && n === 0) return 0;
    if (t !== tag) throw new TypeError(`wrong tag ${t} for ${what}`);
    return n;
  }
}

function values(c: Cursor, type: NcType, n: number): number[] | string {
  const size = NC_TYPE_SIZE[type];
  if (n > Number.MAX_SAFE_INTEGER / size) throw new TypeError(`an attribute of ${n} values`);
  const b = c.bytesOf(n * size);
  c.pad();
  if (type === 'char') return utf8.decode(b).replace(/\0+$/, '');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * size;
    switch (type) {
      case 'byte': out.push(v.getInt8(at)); break;
      case 'ubyte': out.push(v.getUint8(at)); break;
      case 'short': out.push(v.getInt16(at, false)); break;
      case 'ushort': out.push(v.getUint16(at, false)); break;
      case 'int': out.push(v.getInt32(at, false)); break;
      case 'uint': out.push(v.getUint32(at, false)); break;
      case 'float': out.push(v.getFloat32(at, false)); break;
      case 'double': out.push(v.getFloat64(at, false)); break;
      case 'int64': out.push(Number(v.getBigInt64(at, false))); break;
      case 'uint64': out.push(Number(v.getBigUint64(at, false))); break;
    }
  }
  return out;
}

function attributes(c: Cursor, owner: string): NcAttr[] {
  const n = c.list(NC_ATTRIBUTE, `${owner}'s attributes`);
  const out: NcAttr[] = [];
  for (let i = 0; i < n; i++) {
    const name = c.name();
    const type = c.type(`attribute ${owner}:${name}`);
    out.push({ name, type, value: values(c, type, c.count(`attribute ${owner}:${name}'s length`)) });
  }
  return out;
}

/** The header at the start of `bytes` (the file's first bytes: as many as the header takes). */
export function parseNetcdf3Header(bytes: Uint8Array): NcHeader {
  if (bytes.length < 4) throw new RangeError('the file is shorter than its magic number');
  if (!isNetcdf3(bytes)) throw new TypeError('not a NetCDF classic file (no CDF magic)');
  const version = bytes[3]!;
  if (version !== 1 && version !== 2 && version !== 5) throw new TypeError(`unknown version ${version} (1, 2 or 5)`);
  const c = new Cursor(bytes.subarray(4), version === 5);
  // "streaming": the record count all ones (4 or 8 bytes)
  const recs = version === 5 ? c.bytesOf(8) : c.bytesOf(4);
  const streaming = recs.every((b) => b === 0xff);
  const numRecs = streaming ? null : recs.reduce((a, b) => a * 256 + b, 0);
  if (numRecs !== null && numRecs > Number.MAX_SAFE_INTEGER) throw new TypeError('the record count is past 2^53');

  const dimensions: NcHeader['dimensions'] = [];
  let recordDimId: number | undefined;
  const nDims = c.list(NC_DIMENSION, 'the dimensions');
  for (let i = 0; i < nDims; i++) {
    const name = c.name();
    const size = c.count(`dimension ${name}'s length`);
    // the format's lengths are non-negative signed integers: one past 2^31 - 1 (CDF-1/2) or 2^53 is a negative one
    if (size > (version === 5 ? Number.MAX_SAFE_INTEGER : 0x7fffffff)) throw new TypeError(`dimension ${name} has length ${version === 5 ? size : size - 2 ** 32} (negative or past the format's limit)`);
    if (size === 0) {
      if (recordDimId !== undefined) throw new TypeError(`two record (unlimited) dimensions: ${dimensions[recordDimId]!.name} and ${name}`);
      recordDimId = i;
    }
    dimensions.push({ name, size });
  }
  const globalAttributes = attributes(c, 'the file');
  const variables: NcVar[] = [];
  const nVars = c.list(NC_VARIABLE, 'the variables');
  for (let i = 0; i < nVars; i++) {
    const name = c.name();
    const rank = c.count(`variable ${name}'s rank`);
    const dims: number[] = [];
    for (let j = 0; j < rank; j++) dims.push(c.count(`variable ${name}'s dimension id`));
    const attrs = attributes(c, name);
    const type = c.type(`variable ${name}`);
    c.count(`variable ${name}'s size`); // vsize: 2^32 - 1 for large variables in CDF-2, so the shape decides
    const offset = version === 1 ? c.u32() : c.u64(`variable ${name}'s offset`);
    variables.push({ name, dimensions: dims, attributes: attrs, type, offset, record: recordDimId !== undefined && dims[0] === recordDimId });
  }
  return { version, numRecs, dimensions, recordDimId, globalAttributes, variables };
}
