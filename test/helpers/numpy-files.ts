/** .npy and .npz files as numpy writes them (np.save, np.savez, np.savez_compressed), for tests that read them. */
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../../src-main/core/codec/crc32.ts';

/** An .npy of float32 values (C order), as np.save writes it. */
export function npy(values: Float32Array, shape: number[]): Uint8Array {
  let head = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  head = head.padEnd(118, ' ') + '\n';
  const out = new Uint8Array(10 + head.length + values.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, head.length, true);
  out.set(new TextEncoder().encode(head), 10);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 10 + head.length);
  return out;
}

/** How an entry is written: deflated (np.savez_compressed) or stored, and the uncompressed size its headers declare. */
export interface ZipEntryOptions {
  deflate?: boolean;
  declaredSize?: number;
}

/** A zip of .npy entries, stored as np.savez writes one or deflated as np.savez_compressed does. */
export function npz(entries: Record<string, Uint8Array>, options: ZipEntryOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [], central: Uint8Array[] = [];
  let off = 0;
  for (const [name, data] of Object.entries(entries)) {
    const fname = new TextEncoder().encode(`${name}.npy`);
    const stored = options.deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const method = options.deflate ? 8 : 0;
    const size = options.declaredSize ?? data.length;
    const lh = new Uint8Array(30 + fname.length), dv = new DataView(lh.buffer);
    dv.setUint32(0, 0x04034b50, true); dv.setUint16(4, 20, true); dv.setUint16(8, method, true); dv.setUint32(14, crc32(data), true);
    dv.setUint32(18, stored.length, true); dv.setUint32(22, size, true); dv.setUint16(26, fname.length, true); lh.set(fname, 30);
    const ch = new Uint8Array(46 + fname.length), cv = new DataView(ch.buffer);
    cv.setUint32(0, 0x02014b50, true); cv.setUint16(4, 20, true); cv.setUint16(6, 20, true); cv.setUint16(10, method, true); cv.setUint32(16, crc32(data), true);
    cv.setUint32(20, stored.length, true); cv.setUint32(24, size, true); cv.setUint16(28, fname.length, true); cv.setUint32(42, off, true); ch.set(fname, 46);
    parts.push(lh, stored);
    central.push(ch);
    off += lh.length + stored.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22), ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true); ev.setUint16(8, central.length, true); ev.setUint16(10, central.length, true); ev.setUint32(12, cdSize, true); ev.setUint32(16, off, true);
  return Buffer.concat([...parts, ...central, end]);
}
