/**
 * NumPy's .npy arrays and .npz archives (np.save / np.savez / np.savez_compressed), read: the input format of the
 * residual-modeling code (an .npz with original_data, recons_data and latent_bit). Numeric dtypes only, C order;
 * zip entries stored or deflated, zip64 sizes as numpy writes them.
 */
import { constants as bufferConstants } from 'node:buffer';
import { inflateRawSync } from 'node:zlib';
import { FieldpackError } from '../../core/errors.ts';

export interface NpyArray {
  shape: number[];
  /** numpy's dtype descr, e.g. '<f4' */
  dtype: string;
  values: Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | BigInt64Array | BigUint64Array;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export const isNpy = (b: Uint8Array) => NPY_MAGIC.every((c, i) => b[i] === c);
export const isZip = (b: Uint8Array) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;

/** A damaged file: truncated, not what its name says, its zip structures or sizes inconsistent. */
function bad(what: string, msg: string): never {
  throw new FieldpackError('BAD_FILE', `${what}: ${msg}`);
}

/** A well-formed file that uses what this reader does not (Fortran order, big-endian or non-numeric dtypes, other zip methods). */
function unsupported(what: string, msg: string): never {
  throw new FieldpackError('UNSUPPORTED', `${what}: ${msg}`);
}

const TYPED: Record<string, { size: number; make: (buf: ArrayBuffer, n: number) => NpyArray['values'] }> = {
  f4: { size: 4, make: (b, n) => new Float32Array(b, 0, n) },
  f8: { size: 8, make: (b, n) => new Float64Array(b, 0, n) },
  i4: { size: 4, make: (b, n) => new Int32Array(b, 0, n) },
  u4: { size: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  i2: { size: 2, make: (b, n) => new Int16Array(b, 0, n) },
  u2: { size: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  i1: { size: 1, make: (b, n) => new Int8Array(b, 0, n) },
  u1: { size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  b1: { size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  i8: { size: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  u8: { size: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
};

/** Deflate's largest expansion: 258 bytes from one 2-bit code, about 1032 to 1. */
const MAX_DEFLATE_RATIO = 1032;

/** One .npy array (little-endian or byte-order-free numeric dtypes, C order). */
export function parseNpy(b: Uint8Array, what = 'npy'): NpyArray {
  if (!isNpy(b)) bad(what, 'not a .npy array (no \\x93NUMPY magic)');
  const major = b[6]!;
  const lengthEnd = major === 1 ? 10 : 12;
  if (b.length < lengthEnd) bad(what, 'truncated .npy header');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const headLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = lengthEnd + headLen;
  if (start > b.length) bad(what, 'truncated .npy header');
  const head = new TextDecoder('latin1').decode(b.subarray(lengthEnd, start));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(head)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(head)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(head)?.[1];
  if (!descr || !fortran || shapeText === undefined) bad(what, `unreadable .npy header ${JSON.stringify(head.trim())}`);
  if (fortran === 'True') unsupported(what, 'Fortran-ordered arrays are not read (save it in C order: np.ascontiguousarray)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((s) => !Number.isInteger(s) || s < 0)) bad(what, `bad shape (${shapeText})`);
  const order = descr[0]!;
  const kind = descr.slice(1);
  const t = TYPED[kind];
  if (!t || order === '>' || (order !== '<' && order !== '|' && order !== '=')) unsupported(what, `dtype ${descr} is not read (little-endian numeric arrays only)`);
  const n = shape.reduce((a, s) => a * s, 1);
  if (b.length - start < n * t.size) bad(what, `truncated .npy data: ${n} values of ${t.size} bytes need ${n * t.size}, ${b.length - start} given`);
  const copy = new ArrayBuffer(n * t.size);
  new Uint8Array(copy).set(b.subarray(start, start + n * t.size));
  return { shape, dtype: descr, values: t.make(copy, n) };
}

/** The entries of a zip archive (stored or deflated), by name, read through the central directory. */
export function readZipEntries(b: Uint8Array, what = 'zip'): Map<string, Uint8Array> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad(what, 'not a readable zip archive (no end of central directory)');
  let count = dv.getUint16(eocd + 10, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if ((count === 0xffff || cdOffset === 0xffffffff) && eocd >= 20 && dv.getUint32(eocd - 20, true) === 0x07064b50) {
    const z = Number(dv.getBigUint64(eocd - 12, true));
    if (z + 56 > b.length || dv.getUint32(z, true) !== 0x06064b50) bad(what, 'bad zip64 end of central directory');
    count = Number(dv.getBigUint64(z + 32, true));
    cdOffset = Number(dv.getBigUint64(z + 48, true));
  }
  const out = new Map<string, Uint8Array>();
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > b.length || dv.getUint32(p, true) !== 0x02014b50) bad(what, 'corrupted zip central directory');
    const method = dv.getUint16(p + 10, true);
    let csize = dv.getUint32(p + 20, true);
    let usize = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true), extraLen = dv.getUint16(p + 30, true), commentLen = dv.getUint16(p + 32, true);
    if (p + 46 + nameLen + extraLen > b.length) bad(what, 'corrupted zip central directory');
    let local = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field (id 1): the 64-bit values of the fields that hold 0xffffffff, in this order
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = dv.getUint16(e, true), len = dv.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        if (q + len > b.length || len < 8 * [usize, csize, local].filter((x) => x === 0xffffffff).length) bad(what, `corrupted zip64 sizes of entry ${name}`);
        if (usize === 0xffffffff) { usize = Number(dv.getBigUint64(q, true)); q += 8; }
        if (csize === 0xffffffff) { csize = Number(dv.getBigUint64(q, true)); q += 8; }
        if (local === 0xffffffff) local = Number(dv.getBigUint64(q, true));
      }
      e += 4 + len;
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (local + 30 > b.length || dv.getUint32(local, true) !== 0x04034b50) bad(what, `corrupted zip entry ${name}`);
    const data0 = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (data0 + csize > b.length) bad(what, `truncated zip entry ${name}`);
    const raw = b.subarray(data0, data0 + csize);
    if (method === 0) out.set(name, raw);
    else if (method === 8) {
      // deflate makes at most ~1032 bytes of one; inflating stops at the declared size (a crafted entry cannot fill memory)
      if (usize > MAX_DEFLATE_RATIO * csize + 64) bad(what, `zip entry ${name} declares ${usize} bytes, more than deflate can make of its ${csize}`);
      let inflated: Uint8Array;
      try {
        inflated = new Uint8Array(inflateRawSync(raw, { maxOutputLength: Math.max(1, Math.min(usize, bufferConstants.MAX_LENGTH)) }));
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') bad(what, `zip entry ${name} inflates to more than its declared ${usize} bytes`);
        bad(what, `corrupted deflated zip entry ${name}`);
      }
      if (inflated.length !== usize) bad(what, `zip entry ${name} inflates to ${inflated.length} bytes, ${usize} declared`);
      out.set(name, inflated);
    } else unsupported(what, `zip entry ${name} uses compression method ${method} (stored and deflated are read)`);
  }
  return out;
}

/** The arrays of an .npz archive by name (without .npy). */
export function parseNpz(b: Uint8Array, what = 'npz'): Map<string, () => NpyArray> {
  const out = new Map<string, () => NpyArray>();
  for (const [name, bytes] of readZipEntries(b, what)) {
    if (!name.endsWith('.npy')) continue;
    const key = name.slice(0, -4);
    out.set(key, () => parseNpy(bytes, `${what}: ${key}`));
  }
  return out;
}

/** An array's values as numbers (int64 as Number). */
export function npyNumbers(a: NpyArray): ArrayLike<number> {
  if (a.values instanceof BigInt64Array || a.values instanceof BigUint64Array) return Array.from(a.values, Number);
  return a.values;
}
