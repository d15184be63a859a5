/**
 * openDataFile(path, options): the one entry point. The format is detected from the first bytes
 * (CDF\x01, CDF\x02, CDF\x05, \x89HDF), never from the extension; a file with none of these is read as raw
 * binary only when raw options or a sidecar FILE.json say how.
 */
import { open as openFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { FieldpackError } from '../../../core/errors.ts';
import { isFpk, openFpk } from './fpk.ts';
import { isNumpy, openNumpy } from './npz.ts';
import { findHdf5Signature, isNetcdf3 } from '../../files/magic.ts';
import { locateHdf5Signature, openHdf5 } from './hdf5.ts';
import { openNetcdf3 } from './netcdf3.ts';
import { openRaw, RAW_EXTENSIONS, readSidecar, sidecarPath, validateRawOptions } from './raw.ts';
import type { DataFile, DataFormat, OpenOptions } from './types.ts';
import { badFile, withCoordinates } from './util.ts';
import { unreadableFile } from '../../files/unreadable.ts';

export type * from './types.ts';

/** Hook for other containers (the codec's .fpk streams): checked before the built-in formats. */
export interface FieldSourceOpener {
  id: string;
  /** True when the first bytes (up to 4096) are this container's. */
  sniff(head: Uint8Array, path: string): boolean;
  open(path: string, sizeBytes: number, options: OpenOptions): Promise<DataFile>;
}

const openers: FieldSourceOpener[] = [
  // Fieldpack's own streams; replaceable by registering another opener with id 'fpk'
  { id: 'fpk', sniff: (head) => isFpk(head), open: (path, size, options) => openFpk(path, size, options.streamDependencies) },
  // NumPy's .npy / .npz (the residual-modeling code's input format)
  { id: 'npz', sniff: (head, path) => isNumpy(head, path), open: (path, size) => openNumpy(path, size) },
];

/** The codec helper registers its .fpk reader here (e.g. in the app's startup), so inspect/export/import read it too. */
export function registerFieldSource(opener: FieldSourceOpener): void {
  const i = openers.findIndex((o) => o.id === opener.id);
  if (i >= 0) openers[i] = opener;
  else openers.push(opener);
}

export type DetectedFormat = DataFormat | 'unknown' | `source:${string}`;

export async function detectFormat(path: string): Promise<{ format: DetectedFormat; sizeBytes: number; head: Uint8Array }> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new FieldpackError('INVALID_ARGUMENT', `${path}: not a regular file`, { path });
    size = st.size;
  } catch (e) {
    throw unreadableFile(path, e);
  }
  const head = new Uint8Array(Math.min(size, 4096));
  const fh = await openFile(path, 'r');
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  for (const o of openers) if (o.sniff(head, path)) return { format: `source:${o.id}`, sizeBytes: size, head };
  const cdf = isNetcdf3(head);
  if (cdf && head[3] === 1) return { format: 'netcdf3-classic', sizeBytes: size, head };
  if (cdf && head[3] === 2) return { format: 'netcdf3-64bit-offset', sizeBytes: size, head };
  if (cdf && head[3] === 5) return { format: 'netcdf3-64bit-data', sizeBytes: size, head };
  if (findHdf5Signature(head) >= 0 || (size > head.length && (await locateHdf5Signature(path, size)) >= 0)) return { format: 'netcdf4-hdf5', sizeBytes: size, head };
  return { format: 'unknown', sizeBytes: size, head };
}

/** What an unrecognised file is, without echoing any of its content (errors reach other doors and logs). */
function describeUnknown(sizeBytes: number): string {
  if (sizeBytes === 0) return 'the file is empty';
  return `format not recognised, ${sizeBytes} bytes`;
}

/** Formats a scientist may open by mistake, by their signatures, with the step that makes them readable here. */
const FOREIGN_FORMATS: { test: (head: Uint8Array) => boolean; what: string; step: string }[] = [
  { test: (h) => startsWith(h, [0x0e, 0x03, 0x13, 0x01]), what: 'an HDF4 file', step: 'convert it to HDF5 (h4toh5) or to NetCDF first' },
  // GRIB editions 1 and 2, also behind a bulletin header within the bytes read
  { test: (h) => indexOfBytes(h, [0x47, 0x52, 0x49, 0x42]) >= 0, what: 'a GRIB file', step: 'convert it to NetCDF first (cdo -f nc4 copy IN OUT.nc, or wgrib2 IN -netcdf OUT.nc)' },
  { test: (h) => startsWith(h, [0x1f, 0x8b]), what: 'a gzip-compressed file', step: 'decompress it first (gunzip)' },
  { test: (h) => startsWith(h, [0x42, 0x5a, 0x68]), what: 'a bzip2-compressed file', step: 'decompress it first (bunzip2)' },
  { test: (h) => startsWith(h, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), what: 'an xz-compressed file', step: 'decompress it first (unxz)' },
  { test: (h) => startsWith(h, [0x28, 0xb5, 0x2f, 0xfd]), what: 'a zstd-compressed file', step: 'decompress it first (unzstd)' },
];

function startsWith(head: Uint8Array, magic: readonly number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

function indexOfBytes(head: Uint8Array, needle: readonly number[]): number {
  for (let i = 0; i + needle.length <= head.length; i++) if (needle.every((b, k) => head[i + k] === b)) return i;
  return -1;
}

/** Opens any supported file; its readField fills Field.coordinates (see withCoordinates). */
export async function openDataFile(path: string, options: OpenOptions = {}): Promise<DataFile> {
  return withCoordinates(await openFormat(path, options));
}

async function openFormat(path: string, options: OpenOptions): Promise<DataFile> {
  const { format, sizeBytes, head } = await detectFormat(path);
  if (format.startsWith('source:')) {
    const o = openers.find((x) => `source:${x.id}` === format)!;
    return o.open(path, sizeBytes, options);
  }
  switch (format) {
    case 'netcdf3-classic':
    case 'netcdf3-64bit-offset':
    case 'netcdf3-64bit-data':
      if (options.raw) break;
      return openNetcdf3(path, sizeBytes);
    case 'netcdf4-hdf5':
      if (options.raw) break;
      return openHdf5(path, sizeBytes);
  }
  // a layout given and a sidecar beside the file: the file's own description is not silently set aside (a big-endian
  // file read as little-endian gave a stream of garbage)
  if (options.raw && existsSync(sidecarPath(path))) {
    throw new FieldpackError('INVALID_ARGUMENT', `${path}: its sidecar ${sidecarPath(path)} describes its layout; give no raw layout (--raw-shape, --raw-dtype, --raw-endian), or remove the sidecar`, { path });
  }
  const raw = options.raw ? validateRawOptions(path, options.raw) : await readSidecar(path);
  if (raw) return openRaw(path, sizeBytes, raw);
  const ext = path.toLowerCase().slice(path.lastIndexOf('.'));
  if (RAW_EXTENSIONS.includes(ext)) {
    throw new FieldpackError('INVALID_ARGUMENT', `${path}: raw binary needs its shape and dtype (give them, or write a sidecar ${sidecarPath(path)} like {"shape": [100, 500, 500], "dtype": "float32", "endianness": "little"})`, { path });
  }
  // a file named as a stream is told as one (an empty .fpk is not a NetCDF file that went wrong)
  if (ext === '.fpk') throw badFile(path, `not a Fieldpack stream (${describeUnknown(sizeBytes)}; a stream starts "FPK\\x1a")`);
  const foreign = FOREIGN_FORMATS.find((f) => f.test(head));
  if (foreign) throw badFile(path, `${foreign.what} (${sizeBytes} bytes), which Fieldpack does not read (NetCDF, HDF5 and raw binary): ${foreign.step}`);
  throw badFile(path, `not a NetCDF or HDF5 file (${describeUnknown(sizeBytes)}; expected "CDF\\x01", "CDF\\x02", "CDF\\x05" or "\\x89HDF")`);
}
